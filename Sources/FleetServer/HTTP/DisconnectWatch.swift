// FleetServer: a connection's end, told to the request it is answering. The responder runs
// each request in a task of its own (see WireResponder), which closing the connection does
// not cancel; this handler, one per connection, sees the client go (the end of its input, or
// the channel closing) and cancels the task of the request in flight, so a slow search stops
// between SQLite's steps instead of running to the end for nobody (DatabasePool).
//
// As Go's net/http, the end of the client's input counts as the client gone: HTTP clients do
// not half-close a connection to wait for an answer.
import Foundation
import NIOCore
import NIOHTTPTypes

final class DisconnectWatch: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The connections being watched, by channel, for the responder to find its own.
    /// `@unchecked Sendable`: `watches` is touched only under `lock`.
    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var watches: [ObjectIdentifier: DisconnectWatch] = [:]

        init() {}

        func add(_ w: DisconnectWatch, for channel: any Channel) {
            lock.withLock { watches[ObjectIdentifier(channel)] = w }
        }

        func remove(_ channel: any Channel) {
            _ = lock.withLock { watches.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        func watch(_ channel: any Channel) -> DisconnectWatch? {
            lock.withLock { watches[ObjectIdentifier(channel)] }
        }

        var count: Int { lock.withLock { watches.count } }
    }

    private let registry: Registry
    /// `gone` and `onGone` are touched under `lock` (the event loop sets them; the request's
    /// task registers and clears its cancellation).
    private let lock = NSLock()
    private var gone = false
    private var onGone: (@Sendable () -> Void)?

    init(registry: Registry) { self.registry = registry }

    /// Calls `cancel` when the client goes while `body` runs (at once if it has gone already).
    func whileAnswering<T>(cancel: @escaping @Sendable () -> Void, _ body: () async -> T) async -> T {
        let already = lock.withLock { () -> Bool in
            if !gone { onGone = cancel }
            return gone
        }
        if already { cancel() }
        let result = await body()
        lock.withLock { onGone = nil }
        return result
    }

    var clientGone: Bool { lock.withLock { gone } }

    private func markGone() {
        let cancel = lock.withLock { () -> (@Sendable () -> Void)? in
            gone = true
            defer { onGone = nil }
            return onGone
        }
        cancel?()
    }

    func handlerAdded(context: ChannelHandlerContext) { registry.add(self, for: context.channel) }

    func handlerRemoved(context: ChannelHandlerContext) {
        registry.remove(context.channel)
        markGone()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event as? ChannelEvent == .some(.inputClosed) { markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        registry.remove(context.channel)
        markGone()
        context.fireChannelInactive()
    }
}
