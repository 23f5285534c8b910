// FleetMQTT: what every connection of one endpoint shares.
import FleetIndex
import NIOPosix

struct MQTTServices: Sendable {
    let configuration: MQTTEndpoint.Configuration
    let broker: Broker
    let authorizer: DeviceAuthorizer
    let shadows: ShadowService
    let sink: LifecycleSink
    let clock: any FleetClock
    /// Blocking database work (certificate look-ups, grants, shadows); never an event loop.
    let threadPool: NIOThreadPool
}
