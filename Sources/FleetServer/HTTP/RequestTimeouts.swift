// FleetServer: the read timeouts of one HTTP connection. A client must finish a request's
// head within `head` of connecting (or of the last response) and its body within `body` of
// the head; otherwise the connection is closed. Hummingbird's idle timeout alone restarts on
// every byte read, so a client sending one byte a minute (slowloris) would hold a
// connection for ever. A request being answered (a long poll) is never timed out here.
import HTTPTypes
import NIOCore
import NIOHTTPTypes

final class RequestTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let head: TimeAmount
    let body: TimeAmount
    private var timer: Scheduled<Void>?

    init(head: TimeAmount, body: TimeAmount) {
        self.head = head
        self.body = body
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(head, context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(head, context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(body, context)
        case .body: break
        case .end: disarm()   // answered now: no read timeout until the response is written
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(head, context) }   // the next request's head
        context.write(data, promise: promise)
    }

    private func arm(_ amount: TimeAmount, _ context: ChannelHandlerContext) {
        disarm()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: amount) { channel.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
