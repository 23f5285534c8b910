// FleetIndex: turns violation events into SNS notifications, delivered to every
// subscription of the topic in the caller's transaction (never lost, never sent for a
// rolled-back event).

/// Publishes violation notifications.
struct Alerts {
    let db: FleetDatabase
    init(_ db: FleetDatabase) { self.db = db }

    /// Publishes one notification for `event` on `topicARN`; returns the deliveries made.
    @discardableResult
    func publish(_ event: ViolationRecord, topicARN: String, at now: Int64) throws -> Int {
        try Notifications(db).publish(topicARN: topicARN, message: event.message.compact, subject: nil, at: now)
    }
}
