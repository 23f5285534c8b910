// FleetMQTT: what an admitted connection may do. The certificate's policies (default
// versions) and the connection's policy context are read once at CONNECT, as AWS caches them
// for a connection; every PUBLISH, SUBSCRIBE and delivery is then decided in memory.
import FleetDevices

public struct ConnectionGrant: Sendable {
    public var certificate: PresentedCertificate
    public var clientId: String
    public var policies: [PolicyDocument]
    public var context: PolicyContext
    /// The ARN prefix of the account's resources: `arn:aws:iot:<region>:<account>:`.
    public var arnPrefix: String
    /// The versionNumber of the client's newest stored session (0: none), read at CONNECT.
    public var storedVersion: Int64 = 0

    public func decide(_ action: String, _ resource: String) -> PolicyDecision {
        PolicyEvaluator.evaluate(policies, action: action, resource: arnPrefix + resource, context: context)
    }

    public func mayConnect() -> PolicyDecision { decide("iot:Connect", "client/\(clientId)") }
    public func mayPublish(_ topic: String) -> Bool { decide("iot:Publish", "topic/\(topic)").isAllowed }
    public func maySubscribe(_ filter: String) -> Bool { decide("iot:Subscribe", "topicfilter/\(filter)").isAllowed }
    public func mayReceive(_ topic: String) -> Bool { decide("iot:Receive", "topic/\(topic)").isAllowed }
}
