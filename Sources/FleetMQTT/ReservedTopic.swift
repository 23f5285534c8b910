// FleetMQTT: AWS IoT's reserved topics a client may not publish to, whatever its policy says:
// the lifecycle events (`$aws/events/…`, only the broker publishes them) and the shadow
// service's responses (`$aws/things/<thing>/shadow/…/accepted|rejected|delta|documents`);
// the shadow request topics are publishable.

enum ReservedTopic {
    static func clientMayPublish(_ topic: String) -> Bool {
        if topic.hasPrefix("$aws/events/") { return false }
        if topic.hasPrefix("$aws/things/") && topic.contains("/shadow/") { return ShadowOperation(topic: topic) != nil }
        return true
    }
}
