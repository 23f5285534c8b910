// FleetIndex: turns violation events into SNS notifications, delivered to every
// subscription of the topic in the caller's transaction (never lost, never sent for a
// rolled-back event). A topic's routes are resolved once per publisher (one cycle).

/// Publishes violation notifications.
final class Alerts {
    let db: FleetDatabase
    private var routes: [String: [Notifications.Route]] = [:]
    init(_ db: FleetDatabase) { self.db = db }

    /// Publishes one notification for `event` on `topicARN`; returns its MessageId.
    @discardableResult
    func publish(_ event: ViolationRecord, topicARN: String, at now: Int64) throws -> String {
        let n = Notifications(db)
        if routes[topicARN] == nil { routes[topicARN] = try n.routes(topicARN: topicARN) }
        return try n.publish(topicARN: topicARN, message: event.message.compact, subject: nil, at: now, routes: routes[topicARN])
    }
}
