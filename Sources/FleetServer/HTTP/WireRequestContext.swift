// FleetServer: what the responder knows of a request besides the request itself: the channel
// of its connection (to learn when the client goes; see DisconnectWatch).
import Hummingbird
import NIOCore

struct WireRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection's channel.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
