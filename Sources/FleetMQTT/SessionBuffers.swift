// FleetMQTT: a session's three big buffers, and when their pages can go back to the kernel.
// NIO keeps a receive buffer for the socket's reads, NIOSSL a plaintext read buffer and an
// outbound record buffer, each for the connection's life (SessionBufferAllocator maps each of
// its own); between bursts their bytes are spent:
// - the receive buffer's, once NIOSSL has taken them: once a session is connected NIOSSL reads
//   records until BoringSSL asks for more bytes, which leaves nothing of a read unconsumed;
// - the plaintext buffer's, once NIOSSL has handed them on (it does within the read's event
//   loop tick) and nobody holds them: MQTTConnection copies out every frame and any partial one;
// - the record buffer's, once every ciphertext write has been taken by the socket.
// This handler sits at the head of the pipeline: it sees each read (the receive buffer) and each
// write, and counts the unfinished writes. `release()`, on the channel's event loop, then hands
// the pages back; it is a no-op for a block that is no longer the one seen (grown, freed) or
// not a mapping.
//
// `@unchecked Sendable`: touched on the channel's event loop only.
import NIOCore

final class SessionBuffers: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Seen {
        var address: UnsafeRawPointer?
        var mapping: SessionBufferAllocator.Mapping?
        /// Written since the last release.
        var dirty = false

        /// Notes the block under `buffer` (looked up again after a release: a block freed and
        /// mapped anew at the same address has another serial).
        mutating func note(_ buffer: ByteBuffer) {
            let base = buffer.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) }
            if base != address || !dirty {
                address = base
                mapping = base.flatMap(SessionBufferAllocator.mapping(at:))
            }
            dirty = true
        }

        mutating func release() -> Int {
            guard dirty else { return 0 }
            dirty = false
            guard let address, let mapping else { return 0 }
            return SessionBufferAllocator.release(address, mapping)
        }
    }

    private var received = Seen()
    private var plaintext = Seen()
    private var ciphertext = Seen()
    /// Ciphertext writes not yet taken by the socket (or failed).
    private var unfinishedWrites = 0
    /// Called when the buffers, clean (or held by unfinished writes only), are written again:
    /// the session brings its check forward. Set to nil when the session ends.
    var onDirty: (() -> Void)?

    /// Whether a buffer holds pages that could go back now (the record buffer's count only
    /// once the socket has taken every write).
    var isDirty: Bool { received.dirty || plaintext.dirty || (ciphertext.dirty && unfinishedWrites == 0) }

    private func noting(_ body: () -> Void) {
        let was = isDirty
        body()
        if !was, isDirty { onDirty?() }
    }

    /// A plaintext buffer from NIOSSL (MQTTConnection, on every read).
    func noteRead(_ buffer: ByteBuffer) {
        noting { plaintext.note(buffer) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        noting { received.note(unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        unfinishedWrites += 1
        // NIOSSL's write of nothing (a flush with no record) names no buffer.
        if buffer.readableBytes > 0 { ciphertext.note(buffer) }
        let done = promise ?? context.eventLoop.makePromise()
        done.futureResult.whenComplete { [self] _ in
            noting { unfinishedWrites -= 1 }
        }
        context.write(data, promise: done)
    }

    /// Hands back the pages of the buffers whose bytes are spent (the receive and plaintext
    /// buffers' always, the record buffer's when no write is unfinished); returns the pages
    /// released. Call it on the event loop, outside any read (a scheduled task), once the
    /// session is connected (the handshake over).
    func release() -> Int {
        var pages = received.release() + plaintext.release()
        if unfinishedWrites == 0 { pages += ciphertext.release() }
        return pages
    }
}
