// FleetMQTT: the codec on a connection's plaintext. The fixed header is peeked first and the
// packet refused when it announces more than the limit, before its body is buffered; each whole
// frame is copied out and decoded. The read buffer is NIOSSL's and is never kept: a frame not
// yet whole is copied into a buffer of the decoder's own until the rest arrives (so the read
// buffer's bytes are spent when the read ends: SessionBuffers). An error ends the decoding of
// the connection (MQTTConnection refuses or closes it).
import NIOCore

struct MQTTFrameDecoder {
    var decoder: MQTTDecoder
    /// The start of a frame not yet whole.
    private var partial: ByteBuffer?

    /// A refused packet, with the protocol level known when it was refused.
    struct Failure: Error {
        let error: MQTTCodecError
        let level: MQTTVersion?
    }

    init(maximumPacketSize: Int) { decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize) }

    /// Decodes the frames `input` completes, handing each to `each` until it returns false.
    mutating func decode(_ input: ByteBuffer, allocator: ByteBufferAllocator,
                         _ each: (MQTTPacket) -> Bool) throws(Failure) {
        var buffer = input
        let owned = partial != nil
        if var held = partial {
            partial = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        do {
            while buffer.readableBytes > 0 {
                let head = buffer.getBytes(at: buffer.readerIndex, length: min(5, buffer.readableBytes)) ?? []
                guard let total = try decoder.frameLength(head), buffer.readableBytes >= total,
                      let frame = buffer.readBytes(length: total) else { break }
                if !each(try decoder.decode(frame: frame)) { return }
            }
        } catch {
            throw Failure(error: error, level: decoder.version)
        }
        guard buffer.readableBytes > 0 else { return }
        if owned {
            buffer.discardReadBytes()
            partial = buffer
        } else {
            var held = allocator.buffer(capacity: buffer.readableBytes)
            held.writeBuffer(&buffer)
            partial = held
        }
    }
}
