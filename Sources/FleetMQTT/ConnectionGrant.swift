// FleetMQTT: what an admitted connection may do. The certificate's policies (default
// versions) and the connection's policy context are read once at CONNECT, as AWS caches them
// for a connection; every PUBLISH, SUBSCRIBE and delivery is then decided in memory.
import FleetDevices

/// A class: one per session, shared by the session and the broker's entry.
public final class ConnectionGrant: Sendable {
    /// The presented certificate's id (the lifecycle events' principalIdentifier).
    public let certificateId: String
    public let clientId: String
    public let policies: [PolicyDocument]
    public let context: PolicyContext
    /// The ARN prefix of the account's resources: `arn:aws:iot:<region>:<account>:`.
    public let arnPrefix: String
    /// The versionNumber of the client's newest stored session (0: none), read at CONNECT.
    public let storedVersion: Int64

    public init(certificateId: String, clientId: String, policies: [PolicyDocument], context: PolicyContext,
                arnPrefix: String, storedVersion: Int64 = 0) {
        self.certificateId = certificateId
        self.clientId = clientId
        self.policies = policies
        self.context = context
        self.arnPrefix = arnPrefix
        self.storedVersion = storedVersion
    }

    public func decide(_ action: String, _ resource: String) -> PolicyDecision {
        PolicyEvaluator.evaluate(policies, action: action, resource: arnPrefix + resource, context: context)
    }

    public func mayConnect() -> PolicyDecision { decide("iot:Connect", "client/\(clientId)") }
    public func mayPublish(_ topic: String) -> Bool { decide("iot:Publish", "topic/\(topic)").isAllowed }
    public func maySubscribe(_ filter: String) -> Bool { decide("iot:Subscribe", "topicfilter/\(filter)").isAllowed }
    public func mayReceive(_ topic: String) -> Bool { decide("iot:Receive", "topic/\(topic)").isAllowed }
}
