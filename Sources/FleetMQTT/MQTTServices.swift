// FleetMQTT: what every connection of one endpoint shares.
import FleetIndex
import NIOPosix
import Synchronization

/// A class: every session holds the one instance.
final class MQTTServices: Sendable {
    let configuration: MQTTEndpoint.Configuration
    let broker: Broker
    let authorizer: DeviceAuthorizer
    let shadows: ShadowService
    let sink: LifecycleSink
    let clock: any FleetClock
    /// Blocking database work (certificate look-ups, grants, shadows); never an event loop.
    let threadPool: NIOThreadPool
    /// Releases of quiet sessions' buffers, and the pages of the mappings they handed back, in all.
    let releases = Counter()
    let releasedPages = Counter()

    init(configuration: MQTTEndpoint.Configuration, broker: Broker, authorizer: DeviceAuthorizer, shadows: ShadowService,
         sink: LifecycleSink, clock: any FleetClock, threadPool: NIOThreadPool) {
        self.configuration = configuration
        self.broker = broker
        self.authorizer = authorizer
        self.shadows = shadows
        self.sink = sink
        self.clock = clock
        self.threadPool = threadPool
    }

    /// A count shared between threads.
    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func add(_ n: Int) { value.wrappingAdd(n, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }
}
