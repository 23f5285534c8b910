// FleetMQTT: a session's two big TLS buffers, and when their pages can go back to the kernel.
// NIOSSL keeps a plaintext read buffer and an outbound record buffer for the connection's life
// (SessionBufferAllocator maps each of its own); between bursts their bytes are spent:
// - the plaintext buffer's, once NIOSSL has handed them on (it does within the read's event
//   loop tick) and nobody holds them: MQTTConnection copies out every frame and any partial one;
// - the record buffer's, once every ciphertext write has been taken by the socket: this
//   handler sits at the head of the pipeline, sees each write and counts the unfinished ones.
// `release()`, on the channel's event loop, then hands their pages back; it is a no-op for a
// block that is no longer the one seen (grown, freed) or not a mapping.
//
// `@unchecked Sendable`: touched on the channel's event loop only.
import NIOCore

final class SessionBuffers: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Seen {
        var address: UnsafeRawPointer?
        var mapping: SessionBufferAllocator.Mapping?
        /// Written since the last release.
        var dirty = false

        /// Notes the block under `buffer`; returns true when it was clean.
        mutating func note(_ buffer: ByteBuffer) -> Bool {
            let base = buffer.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) }
            if base != address {
                address = base
                mapping = base.flatMap(SessionBufferAllocator.mapping(at:))
            }
            defer { dirty = true }
            return !dirty
        }

        mutating func release() -> Int {
            guard dirty else { return 0 }
            dirty = false
            guard let address, let mapping else { return 0 }
            return SessionBufferAllocator.release(address, mapping)
        }
    }

    private var plaintext = Seen()
    private var ciphertext = Seen()
    /// Ciphertext writes not yet taken by the socket (or failed).
    private var unfinishedWrites = 0

    /// Whether either buffer was written since the last release.
    var isDirty: Bool { plaintext.dirty || ciphertext.dirty }

    /// A plaintext buffer from NIOSSL (MQTTConnection, on every read); true when the buffers
    /// were clean before.
    func noteRead(_ buffer: ByteBuffer) -> Bool {
        let clean = !isDirty
        _ = plaintext.note(buffer)
        return clean
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        _ = ciphertext.note(unwrapOutboundIn(data))
        unfinishedWrites += 1
        let done = promise ?? context.eventLoop.makePromise()
        done.futureResult.whenComplete { [self] _ in unfinishedWrites -= 1 }
        context.write(data, promise: done)
    }

    /// Hands back the pages of the buffers whose bytes are spent (the plaintext buffer's
    /// always, the record buffer's when no write is unfinished); returns the pages released.
    /// Call it on the event loop, outside any read (a scheduled task), with no partial frame
    /// left in the plaintext buffer.
    @discardableResult
    func release() -> Int {
        var pages = plaintext.release()
        if unfinishedWrites == 0 { pages += ciphertext.release() }
        return pages
    }
}
