// FleetMQTT: the codec in a NIO pipeline. The fixed header is peeked first and the packet
// refused when it announces more than the limit, before its body is buffered; a whole frame is
// then read and decoded. An error closes the connection (MQTTConnection.errorCaught).
import NIOCore

struct MQTTFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = MQTTPacket
    var decoder: MQTTDecoder

    /// A refused packet, with the protocol level known when it was refused.
    struct Failure: Error {
        let error: MQTTCodecError
        let level: MQTTVersion?
    }

    init(maximumPacketSize: Int) { decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize) }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        do {
            let head = buffer.getBytes(at: buffer.readerIndex, length: min(5, buffer.readableBytes)) ?? []
            guard let total = try decoder.frameLength(head), buffer.readableBytes >= total,
                  let frame = buffer.readBytes(length: total) else { return .needMoreData }
            let packet = try decoder.decode(frame: frame)
            context.fireChannelRead(wrapInboundOut(packet))
            return .continue
        } catch {
            throw Failure(error: error, level: decoder.version)
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
