// FleetIndex storage: SNS topics and subscriptions, SQS queues and messages, and the pending
// webhook deliveries of http/https subscriptions.
import FleetSQLite
import FleetStorage

/// An SQS queue.
struct QueueRecord {
    var id: Int64
    var name: String
    var arn: String
    var url: String
    var visibility: Int64
    var redriveTarget: Int64?
    var maxReceive: Int64?

    /// Columns: `id, name, arn, url, visibility_timeout, redrive_target, max_receive_count`.
    init(row s: StoreRow) {
        (id, name, arn, url, visibility) = (s.int(0), s.text(1), s.text(2), s.text(3), s.int(4))
        (redriveTarget, maxReceive) = (s.optionalInt(5), s.optionalInt(6))
    }
}

/// An SNS subscription as ListSubscriptions shows it.
struct SubscriptionRecord {
    var arn: String
    var proto: String
    var endpoint: String
    var topicARN: String

    /// Columns: `s.arn, s.protocol, s.endpoint, t.arn`.
    init(row s: StoreRow) {
        (arn, proto, endpoint, topicARN) = (s.text(0), s.text(1), s.text(2), s.text(3))
    }
}

/// A message a receive may return.
struct MessageRecord {
    var id: Int64
    var messageId: String
    var body: String
    var md5: String
    var receiveCount: Int64
    var sentAt: Int64

    /// Columns: `id, message_id, body, md5, receive_count, sent_at`.
    init(row s: StoreRow) {
        (id, messageId, body, md5, receiveCount, sentAt) = (s.int(0), s.text(1), s.text(2), s.text(3), s.int(4), s.int(5))
    }
}

/// A webhook delivery that is due.
struct DeliveryRecord {
    var id: Int64
    var body: String
    var messageId: String
    var attempts: Int
    var endpoint: String
    var subscriptionARN: String
    var topicARN: String

    /// Columns: `d.id, d.body, d.message_id, d.attempts, s.endpoint, s.arn, t.arn`.
    init(row s: StoreRow) {
        (id, body, messageId, attempts) = (s.int(0), s.text(1), s.text(2), Int(s.int(3)))
        (endpoint, subscriptionARN, topicARN) = (s.text(4), s.text(5), s.text(6))
    }
}

/// Topics, subscriptions, queues, messages and deliveries.
struct MessagingStore {
    let c: StoreConnection

    // MARK: topics and subscriptions

    private static let insertTopic = "INSERT INTO sns_topic(name, arn, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

    /// Creates a topic unless it exists.
    func insertTopic(name: String, arn: String, at now: Int64) throws {
        try c.execute(Self.insertTopic, [name, arn, now])
    }

    /// A topic's id by ARN or name.
    func topicID(_ arnOrName: String) throws -> Int64? {
        try c.scalar("SELECT id FROM sns_topic WHERE arn = ? OR name = ?", [arnOrName, arnOrName])?.int
    }

    func topicARNs() throws -> [String] {
        try c.query("SELECT arn FROM sns_topic ORDER BY arn") { $0.text(0) }
    }

    func deleteTopic(arn: String) throws {
        try c.execute("DELETE FROM sns_topic WHERE arn = ?", [arn])
    }

    /// The ARN of an existing identical subscription.
    func subscriptionARN(topic: Int64, proto: String, endpoint: String) throws -> String? {
        try c.scalar("SELECT arn FROM sns_subscription WHERE topic = ? AND protocol = ? AND endpoint = ?", [topic, proto, endpoint])?.string
    }

    func insertSubscription(topic: Int64, proto: String, endpoint: String, arn: String, at now: Int64) throws {
        try c.execute("INSERT INTO sns_subscription(topic, protocol, endpoint, arn, created_at) VALUES (?, ?, ?, ?, ?)", [topic, proto, endpoint, arn, now])
    }

    func deleteSubscription(arn: String) throws {
        try c.execute("DELETE FROM sns_subscription WHERE arn = ?", [arn])
    }

    /// Subscriptions in creation order (of one topic when given).
    func subscriptions(topicARN: String?) throws -> [SubscriptionRecord] {
        var sql = "SELECT s.arn, s.protocol, s.endpoint, t.arn FROM sns_subscription AS s JOIN sns_topic AS t ON t.id = s.topic"
        var binds: [SQLiteValue] = []
        if let topicARN { sql += " WHERE t.arn = ?"; binds.append(.text(topicARN)) }
        return try c.query(sql + " ORDER BY s.id", binds, SubscriptionRecord.init(row:))
    }

    /// A topic's subscriptions: id, protocol and endpoint.
    func subscriptions(ofTopic topic: Int64) throws -> [(id: Int64, proto: String, endpoint: String)] {
        try c.query("SELECT id, protocol, endpoint FROM sns_subscription WHERE topic = ?", [topic]) { ($0.int(0), $0.text(1), $0.text(2)) }
    }

    // MARK: queues

    func queue(url: String, arn: String, name: String) throws -> QueueRecord? {
        try c.query("SELECT id, name, arn, url, visibility_timeout, redrive_target, max_receive_count FROM sqs_queue WHERE url = ? OR arn = ? OR name = ?",
                    [url, arn, name], QueueRecord.init(row:)).first
    }

    func queueExists(named name: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM sqs_queue WHERE name = ?", [name]) != nil
    }

    func insertQueue(name: String, url: String, arn: String, at now: Int64) throws {
        try c.execute("INSERT INTO sqs_queue(name, url, arn, created_at) VALUES (?, ?, ?, ?)", [name, url, arn, now])
    }

    /// Every queue's URL and name, in name order.
    func queueURLs() throws -> [(url: String, name: String)] {
        try c.query("SELECT url, name FROM sqs_queue ORDER BY name") { ($0.text(0), $0.text(1)) }
    }

    func deleteQueue(_ queue: Int64) throws {
        try c.execute("DELETE FROM sqs_queue WHERE id = ?", [queue])
    }

    func setVisibilityTimeout(queue: Int64, seconds: Int64) throws {
        try c.execute("UPDATE sqs_queue SET visibility_timeout = ? WHERE id = ?", [seconds, queue])
    }

    /// Sets (or, with nil, removes) the redrive policy.
    func setRedrive(queue: Int64, target: Int64?, maxReceive: Int64?) throws {
        try c.execute("UPDATE sqs_queue SET redrive_target = ?, max_receive_count = ? WHERE id = ?", [target, maxReceive, queue])
    }

    private var setAttribute: String { "UPDATE sqs_queue SET attributes = " + c.dialect.jsonSetMember("attributes") + " WHERE id = ?" }

    /// Keeps an attribute fleetdex stores without acting on it.
    func setStoredAttribute(queue: Int64, name: String, value: String) throws {
        try c.execute(setAttribute, [name, value, queue])
    }

    func createdAt(queue: Int64) throws -> Int64 {
        try c.scalar("SELECT created_at FROM sqs_queue WHERE id = ?", [queue])?.int ?? 0
    }

    func queueARN(_ queue: Int64) throws -> String? {
        try c.scalar("SELECT arn FROM sqs_queue WHERE id = ?", [queue])?.string
    }

    // MARK: messages

    /// The condition under which a message is visible to a receive at `?` (bound twice).
    static let visibleAt = "(receive_count = 0 OR visible_at <= ? OR received_at > ?)"

    /// Messages in every queue.
    func messageCount() throws -> Int64 {
        try c.scalar("SELECT count(*) FROM sqs_message")?.int ?? 0
    }

    func messageCount(queue: Int64) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM sqs_message WHERE queue = ?", [queue])?.int ?? 0
    }

    /// Messages a receive at `now` sees (without `now`: those never received).
    func visibleCount(queue: Int64, at now: Int64?) throws -> Int64 {
        if let now {
            return try c.scalar("SELECT count(*) FROM sqs_message WHERE queue = ? AND " + Self.visibleAt, [queue, now, now])?.int ?? 0
        }
        return try c.scalar("SELECT count(*) FROM sqs_message WHERE queue = ? AND receive_count = 0", [queue])?.int ?? 0
    }

    static let insertMessageSQL = "INSERT INTO sqs_message(queue, message_id, body, md5, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)"

    func insertMessage(queue: Int64, messageId: String, body: String, md5: String, at now: Int64) throws {
        try c.execute(Self.insertMessageSQL, [queue, messageId, body, md5, now, now])
    }

    /// A writer for one publish: a message per queue route and a delivery per webhook route,
    /// its statements prepared once.
    func publisher() throws -> Publisher { try Publisher(c) }

    struct Publisher {
        let enqueue: StoreStatement
        let hook: StoreStatement
        init(_ c: StoreConnection) throws {
            enqueue = try c.prepare(MessagingStore.insertMessageSQL)
            hook = try c.prepare("INSERT INTO http_delivery(subscription, body, message_id, next_attempt_at) VALUES (?, ?, ?, ?)")
        }
        func enqueue(queue: Int64, messageId: String, body: String, md5: String, at now: Int64) throws {
            try enqueue.bind([.integer(queue), .text(messageId), .text(body), .text(md5), .integer(now), .integer(now)])
            try enqueue.step()
        }
        func deliver(subscription: Int64, body: String, messageId: String, at now: Int64) throws {
            try hook.bind([.integer(subscription), .text(body), .text(messageId), .integer(now)])
            try hook.step()
        }
    }

    private var visibleMessages: String {
        """
        SELECT id, message_id, body, md5, receive_count, sent_at FROM sqs_message
        WHERE queue = ? AND \(Self.visibleAt) AND id NOT IN \(c.dialect.boundIntegerList)
        ORDER BY visible_at, id LIMIT ?
        """
    }

    /// Up to `limit` messages visible at `now`, oldest visibility first, leaving out `returned`.
    func visibleMessages(queue: Int64, at now: Int64, excluding returned: [Int64], limit: Int) throws -> [MessageRecord] {
        try c.query(visibleMessages, [queue, now, now, "[" + returned.map(String.init).joined(separator: ",") + "]", limit], MessageRecord.init(row:))
    }

    /// The newest `limit` messages of a queue, newest first, read without receiving them.
    func newestMessages(queue: Int64, limit: Int) throws -> [MessageRecord] {
        try c.query("SELECT id, message_id, body, md5, receive_count, sent_at FROM sqs_message WHERE queue = ? ORDER BY id DESC LIMIT ?",
                    [queue, limit], MessageRecord.init(row:))
    }

    /// Moves a message to a dead-letter queue, as never received.
    func moveMessage(_ message: Int64, toQueue dlq: Int64, at now: Int64) throws {
        try c.execute("UPDATE sqs_message SET queue = ?, receive_count = 0, receipt_handle = NULL, received_at = NULL, visible_at = ? WHERE id = ?",
                      [dlq, now, message])
    }

    /// Records a receive: hidden until `visibleAt`, with a new receipt handle.
    func markReceived(_ message: Int64, visibleAt: Int64, at now: Int64, handle: String) throws {
        try c.execute("UPDATE sqs_message SET receive_count = receive_count + 1, visible_at = ?, received_at = ?, receipt_handle = ? WHERE id = ?",
                      [visibleAt, now, handle, message])
    }

    private var deleteByHandle: String { "DELETE FROM sqs_message WHERE receipt_handle = ? AND " + c.dialect.withoutIndex("queue") + " = ?" }
    private var changeVisibility: String {
        "UPDATE sqs_message SET visible_at = ?, received_at = ? WHERE receipt_handle = ? AND " + c.dialect.withoutIndex("queue") + " = ?"
    }

    /// Deletes the message holding `handle` in `queue`; false when none does.
    func deleteMessage(queue: Int64, handle: String) throws -> Bool {
        try c.execute(deleteByHandle, [handle, queue])
        return c.changes > 0
    }

    /// Deletes a message by an earlier receipt (received at least `receives` times); false when none.
    func deleteMessage(queue: Int64, messageId: String, receivedAtLeast receives: Int64) throws -> Bool {
        try c.execute("DELETE FROM sqs_message WHERE queue = ? AND message_id = ? AND receive_count >= ?", [queue, messageId, receives])
        return c.changes > 0
    }

    /// Changes the visibility of the message holding `handle`; false when none does.
    func changeVisibility(queue: Int64, handle: String, visibleAt: Int64, at now: Int64) throws -> Bool {
        try c.execute(changeVisibility, [visibleAt, now, handle, queue])
        return c.changes > 0
    }

    func purge(queue: Int64) throws {
        try c.execute("DELETE FROM sqs_message WHERE queue = ?", [queue])
    }

    // MARK: webhook deliveries

    func dueDeliveries(at now: Int64) throws -> [DeliveryRecord] {
        try c.query("""
            SELECT d.id, d.body, d.message_id, d.attempts, s.endpoint, s.arn, t.arn FROM http_delivery AS d
            JOIN sns_subscription AS s ON s.id = d.subscription JOIN sns_topic AS t ON t.id = s.topic
            WHERE d.delivered_at IS NULL AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id
            """, [now], DeliveryRecord.init(row:))
    }

    func markDelivered(_ delivery: Int64, at now: Int64) throws {
        try c.execute("UPDATE http_delivery SET attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?", [now, delivery])
    }

    func markFailed(_ delivery: Int64, retryAt: Int64, error: String) throws {
        try c.execute("UPDATE http_delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?", [retryAt, error, delivery])
    }

    func nextAttempt() throws -> Int64? {
        try c.scalar("SELECT min(next_attempt_at) FROM http_delivery WHERE delivered_at IS NULL")?.int
    }
}
