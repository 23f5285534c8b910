// FleetIndex: the SNS topics and SQS queues of the walkthrough, kept in the fleet's database:
// publish fans out to subscriptions in the caller's transaction; receive hides a message for
// its visibility timeout; a redrive policy moves poison messages to a dead-letter queue.
//
// The clock rule (commands run on the system clock or on a virtual `--at`, and may mix them):
// a message nobody has received is visible to every receive, whatever its clock; a receive at
// R with timeout V hides the messages it returns from receives whose clock lies in [R, R + V)
// and from no other (a receive on a clock behind R gets the message again: at least once,
// never hidden). Any receipt handle a queue issued for a message deletes it while it exists.

/// SNS and SQS operations (shapes of the botocore `sns` and `sqs` models).
public struct Notifications {
    public let db: FleetDatabase
    var store: MessagingStore { db.messaging }
    public init(_ db: FleetDatabase) { self.db = db }

    static func checkName(_ name: String, _ what: String, fifoAllowed: Bool = true) throws(FleetError) {
        guard !name.isEmpty, name.utf8.count <= 256,
              name.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) else {
            throw FleetError(.invalidParameter, "\(what) '\(name)' must be 1 to 256 characters of [A-Za-z0-9_-]")
        }
    }

    // MARK: SNS

    public func createTopic(name: String, at now: Int64) throws -> JSONValue {
        try Notifications.checkName(name, "topic name")
        let arn = db.snsARN(name)
        try store.insertTopic(name: name, arn: arn, at: now)
        return jsonObject([("TopicArn", .string(arn))])
    }

    func topicID(_ arn: String) throws -> Int64 {
        guard let id = try store.topicID(arn) else {
            throw FleetError(.notFound, "Topic does not exist: \(arn)")
        }
        return id
    }

    public func listTopics() throws -> JSONValue {
        let arns = try store.topicARNs()
        return jsonObject([("Topics", .array(arns.map { jsonObject([("TopicArn", .string($0))]) }))])
    }

    public func deleteTopic(arn: String) throws -> JSONValue {
        try store.deleteTopic(arn: arn)
        return .object([])
    }

    /// Subscribe: `sqs` endpoints are a queue ARN or URL of this database; `http`/`https` a URL.
    public func subscribe(topicARN: String, protocol proto: String, endpoint: String, at now: Int64) throws -> JSONValue {
        let topic = try topicID(topicARN)
        var stored = endpoint
        switch proto {
        case "sqs":
            stored = try queue(endpoint).arn
        case "http", "https":
            guard endpoint.hasPrefix(proto + "://") else {
                throw FleetError(.invalidParameter, "Invalid parameter: Endpoint must start with \(proto)://")
            }
        default:
            throw FleetError(.invalidParameter, "Invalid parameter: Protocol '\(proto)' (fleetdex delivers to sqs, http and https)")
        }
        if let existing = try store.subscriptionARN(topic: topic, proto: proto, endpoint: stored) {
            return jsonObject([("SubscriptionArn", .string(existing))])
        }
        let arn = topicARN + ":" + FleetDatabase.uuid()
        try store.insertSubscription(topic: topic, proto: proto, endpoint: stored, arn: arn, at: now)
        return jsonObject([("SubscriptionArn", .string(arn))])
    }

    public func unsubscribe(arn: String) throws -> JSONValue {
        try store.deleteSubscription(arn: arn)
        return .object([])
    }

    public func listSubscriptions(topicARN: String?) throws -> JSONValue {
        let rows = try store.subscriptions(topicARN: topicARN).map { s in
            jsonObject([("SubscriptionArn", .string(s.arn)), ("Owner", .string(db.account)), ("Protocol", .string(s.proto)),
                        ("Endpoint", .string(s.endpoint)), ("TopicArn", .string(s.topicARN))])
        }
        return jsonObject([("Subscriptions", .array(rows))])
    }

    /// Where a topic's messages go: each subscription, with its queue for `sqs`.
    public struct Route {
        var subscription: Int64
        var queue: Int64?
    }

    /// The routes of a topic (resolved once per cycle by the alert publisher).
    public func routes(topicARN: String) throws -> [Route] {
        let topic = try topicID(topicARN)
        let subs = try store.subscriptions(ofTopic: topic)
        return subs.map { id, proto, endpoint in Route(subscription: id, queue: proto == "sqs" ? (try? queue(endpoint))?.id : nil) }
    }

    /// Publishes `message` to every subscription of the topic (in the caller's transaction);
    /// returns the SNS MessageId.
    @discardableResult
    public func publish(topicARN: String, message: String, subject: String?, at now: Int64, routes known: [Route]? = nil) throws -> String {
        let routes = try known ?? self.routes(topicARN: topicARN)
        let messageId = FleetDatabase.uuid()
        let envelope = jsonObject([
            ("Type", .string("Notification")),
            ("MessageId", .string(messageId)),
            ("TopicArn", .string(topicARN)),
            ("Subject", subject.map(JSONValue.string)),
            ("Message", .string(message)),
            ("Timestamp", .string(Timestamp.isoZ(now))),
        ]).compact
        let md5 = MD5.hex(envelope)
        let publisher = try store.publisher()
        for r in routes {
            if let q = r.queue {
                try publisher.enqueue(queue: q, messageId: FleetDatabase.uuid(), body: envelope, md5: md5, at: now)
            } else {
                try publisher.deliver(subscription: r.subscription, body: envelope, messageId: messageId, at: now)
            }
        }
        return messageId
    }

    public func publishOperation(topicARN: String, message: String, subject: String?, at now: Int64) throws -> JSONValue {
        try db.transaction {
            jsonObject([("MessageId", .string(try publish(topicARN: topicARN, message: message, subject: subject, at: now)))])
        }
    }

    // MARK: SQS

    typealias Queue = QueueRecord

    /// A queue by URL, ARN or name.
    func queue(_ ref: String) throws -> Queue {
        let name = ref.split(separator: "/").last.map(String.init).flatMap { $0.split(separator: ":").last.map(String.init) } ?? ref
        guard let q = try store.queue(url: ref, arn: ref, name: name) else {
            throw FleetError(.nonExistentQueue, "The specified queue does not exist: \(ref)")
        }
        return q
    }

    public func createQueue(name: String, attributes: [String: String], at now: Int64) throws -> JSONValue {
        try Notifications.checkName(name, "queue name")
        return try db.transaction {
            let url = db.sqsURL(name)
            if try !store.queueExists(named: name) {
                try store.insertQueue(name: name, url: url, arn: db.sqsARN(name), at: now)
            }
            if !attributes.isEmpty { _ = try setQueueAttributes(url: url, attributes: attributes) }
            return jsonObject([("QueueUrl", .string(url))])
        }
    }

    public func listQueues(prefix: String?) throws -> JSONValue {
        let urls = try store.queueURLs().filter { prefix == nil || $0.name.hasPrefix(prefix!) }.map(\.url)
        return urls.isEmpty ? .object([]) : jsonObject([("QueueUrls", .array(urls.map(JSONValue.string)))])
    }

    public func getQueueURL(name: String) throws -> JSONValue {
        jsonObject([("QueueUrl", .string(try queue(name).url))])
    }

    public func deleteQueue(url: String) throws -> JSONValue {
        let q = try queue(url)
        try store.deleteQueue(q.id)
        return .object([])
    }

    /// SetQueueAttributes: VisibilityTimeout and RedrivePolicy (`{"deadLetterTargetArn","maxReceiveCount"}`).
    public func setQueueAttributes(url: String, attributes: [String: String]) throws -> JSONValue {
        let q = try queue(url)
        for (k, v) in attributes {
            switch k {
            case "VisibilityTimeout":
                guard let s = Int64(v), (0...43200).contains(s) else { throw FleetError(.invalidAttributeValue, "VisibilityTimeout must be 0 to 43200 seconds") }
                try store.setVisibilityTimeout(queue: q.id, seconds: s)
            case "RedrivePolicy":
                if v.isEmpty {
                    try store.setRedrive(queue: q.id, target: nil, maxReceive: nil)
                    continue
                }
                guard let p = try? JSONValue.parse(v), let target = p["deadLetterTargetArn"]?.stringValue,
                      let max = p["maxReceiveCount"]?.int64Value ?? p["maxReceiveCount"]?.stringValue.flatMap({ Int64($0) }), (1...1000).contains(max) else {
                    throw FleetError(.invalidAttributeValue, "RedrivePolicy must be {\"deadLetterTargetArn\":\"arn:...\",\"maxReceiveCount\":1..1000}")
                }
                let dlq = try queue(target)
                guard dlq.id != q.id else { throw FleetError(.invalidAttributeValue, "a queue cannot be its own dead-letter queue") }
                try store.setRedrive(queue: q.id, target: dlq.id, maxReceive: max)
            case "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "Policy":
                try store.setStoredAttribute(queue: q.id, name: k, value: v)
            default:
                throw FleetError(.invalidAttributeName, "Unknown Attribute \(k).")
            }
        }
        return .object([])
    }

    /// The message counts are those a receive at `now` sees (without `now`: messages never
    /// received are visible, received ones not).
    public func getQueueAttributes(url: String, names: [String], at now: Int64? = nil) throws -> JSONValue {
        let q = try queue(url)
        let total = try store.messageCount(queue: q.id)
        let visible = try store.visibleCount(queue: q.id, at: now)
        let inFlight = total - visible
        let created = try store.createdAt(queue: q.id)
        var all: [(String, String)] = [
            ("QueueArn", q.arn),
            ("ApproximateNumberOfMessages", String(visible)),
            ("ApproximateNumberOfMessagesNotVisible", String(inFlight)),
            ("VisibilityTimeout", String(q.visibility)),
            ("CreatedTimestamp", String(created / 1000)),
        ]
        if let t = q.redriveTarget, let arn = try store.queueARN(t), let m = q.maxReceive {
            all.append(("RedrivePolicy", jsonObject([("deadLetterTargetArn", .string(arn)), ("maxReceiveCount", .int(m))]).compact))
        }
        let wanted = names.isEmpty || names.contains("All") ? all : all.filter { names.contains($0.0) }
        return jsonObject([("Attributes", .object(wanted.map { JSONMember($0.0, .string($0.1)) }))])
    }

    func enqueue(_ queue: Int64, body: String, at now: Int64) throws {
        try store.insertMessage(queue: queue, messageId: FleetDatabase.uuid(), body: body, md5: MD5.hex(body), at: now)
    }

    /// The newest messages of a queue, newest first, as they are: no receive is counted, no
    /// message hidden or moved (not an SQS operation: the console's peek; SQS itself can
    /// only receive). Each with MessageId, Body, MD5OfBody, SentTimestamp and
    /// ApproximateReceiveCount.
    public func peekMessages(url: String, limit: Int = 10) throws -> JSONValue {
        guard (1...100).contains(limit) else { throw FleetError.invalid(member: "limit", "must be between 1 and 100, got \(limit)") }
        let q = try queue(url)
        let messages = try store.newestMessages(queue: q.id, limit: limit).map { m in
            jsonObject([("MessageId", .string(m.messageId)), ("Body", .string(m.body)), ("MD5OfBody", .string(m.md5)),
                        ("SentTimestamp", .string(String(m.sentAt))), ("ApproximateReceiveCount", .string(String(m.receiveCount)))])
        }
        return jsonObject([("Messages", .array(messages))])
    }

    public func sendMessage(url: String, body: String, at now: Int64) throws -> JSONValue {
        let q = try queue(url)
        guard !body.isEmpty, body.utf8.count <= 262_144 else { throw FleetError(.invalidParameterValue, "the message body must be 1 byte to 256 KiB") }
        let id = FleetDatabase.uuid()
        try store.insertMessage(queue: q.id, messageId: id, body: body, md5: MD5.hex(body), at: now)
        return jsonObject([("MD5OfMessageBody", .string(MD5.hex(body))), ("MessageId", .string(id))])
    }

    /// ReceiveMessage: up to `max` visible messages, hidden for the visibility timeout;
    /// a message received more than the redrive policy allows moves to the dead-letter queue.
    /// With `wait` seconds it waits for a message (it sleeps between checks of SQLite's
    /// data version, so it wakes shortly after another process commits one).
    public func receiveMessage(url: String, max: Int, visibilityTimeout: Int64?, wait: Int, at now: Int64, attributeNames: [String] = [],
                               sleep: (Int) -> Void = { _ in }, clock: () -> Int64 = { 0 }) throws -> JSONValue {
        guard (1...10).contains(max) else { throw FleetError(.invalidParameterValue, "MaxNumberOfMessages must be between 1 and 10") }
        guard (0...20).contains(wait) else { throw FleetError(.invalidParameterValue, "WaitTimeSeconds must be between 0 and 20") }
        if let v = visibilityTimeout, !(0...43200).contains(v) {
            throw FleetError(.invalidParameterValue, "VisibilityTimeout must be between 0 and 43200 seconds")
        }
        let q = try queue(url)
        let start = clock()
        let deadline = start + Int64(wait) * 1000
        while true {
            // The receive's clock moves on while it waits.
            let got = try receiveOnce(q, max: max, visibility: visibilityTimeout ?? q.visibility, at: now &+ (clock() &- start), attributeNames: attributeNames)
            if !got.isEmpty || wait == 0 || clock() >= deadline {
                return got.isEmpty ? .object([]) : jsonObject([("Messages", .array(got))])
            }
            sleep(100)
        }
    }

    func receiveOnce(_ q: Queue, max: Int, visibility: Int64, at now: Int64, attributeNames: [String]) throws -> [JSONValue] {
        try db.transaction {
            var out: [JSONValue] = []
            // One receive returns a message once, even when its visibility timeout is 0.
            var returned: [Int64] = []
            while out.count < max {
                let rows = try store.visibleMessages(queue: q.id, at: now, excluding: returned, limit: max - out.count)
                if rows.isEmpty { break }
                for r in rows {
                    if let maxReceive = q.maxReceive, let dlq = q.redriveTarget, r.receiveCount >= maxReceive {
                        try store.moveMessage(r.id, toQueue: dlq, at: now)
                        continue
                    }
                    returned.append(r.id)
                    let handle = Self.receiptHandle(messageId: r.messageId, receive: r.receiveCount + 1)
                    try store.markReceived(r.id, visibleAt: Self.later(now, seconds: visibility), at: now, handle: handle)
                    var attrs: [JSONMember] = []
                    let all = attributeNames.contains("All")
                    if all || attributeNames.contains("ApproximateReceiveCount") { attrs.append(JSONMember("ApproximateReceiveCount", .string(String(r.receiveCount + 1)))) }
                    if all || attributeNames.contains("SentTimestamp") { attrs.append(JSONMember("SentTimestamp", .string(String(r.sentAt)))) }
                    out.append(jsonObject([("MessageId", .string(r.messageId)), ("ReceiptHandle", .string(handle)), ("MD5OfBody", .string(r.md5)),
                                           ("Body", .string(r.body)), ("Attributes", attrs.isEmpty ? nil : .object(attrs))]))
                }
            }
            return out
        }
    }

    /// A receipt handle: the message and which receive of it, with 128 random bits.
    static func receiptHandle(messageId: String, receive: Int64) -> String {
        PageToken.base64url(Array((messageId + "#" + String(receive) + "#" + FleetDatabase.hex32()).utf8))
    }

    /// The message and receive a handle names, when it has the shape `receiptHandle` gives.
    static func issued(_ handle: String) -> (messageId: String, receive: Int64)? {
        guard handle.utf8.count <= 1024, let bytes = PageToken.unbase64url(handle) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count == 3, let n = Int64(parts[1]), n >= 1, parts[2].utf8.count == 32,
              parts[2].utf8.allSatisfy({ Validation.isAlnum($0) }) else { return nil }
        return (String(parts[0]), n)
    }

    /// `now` plus a visibility timeout, saturating instead of overflowing.
    static func later(_ now: Int64, seconds: Int64) -> Int64 {
        let (ms, o1) = seconds.multipliedReportingOverflow(by: 1000)
        let (sum, o2) = now.addingReportingOverflow(ms)
        return o1 || o2 ? Int64.max : sum
    }

    /// Deletes a message by any receipt handle this queue issued for it (the latest or an
    /// earlier one, as standard SQS queues do), while the message exists.
    public func deleteMessage(url: String, receiptHandle: String) throws -> JSONValue {
        let q = try queue(url)
        var deleted = try store.deleteMessage(queue: q.id, handle: receiptHandle)
        if !deleted, let (messageId, n) = Self.issued(receiptHandle) {
            deleted = try store.deleteMessage(queue: q.id, messageId: messageId, receivedAtLeast: n)
        }
        if !deleted {
            throw FleetError(.receiptHandleIsInvalid, "The input receipt handle \"\(receiptHandle)\" is not a valid receipt handle (deleted already, or not issued by this queue)")
        }
        return .object([])
    }

    public func changeMessageVisibility(url: String, receiptHandle: String, timeout: Int64, at now: Int64) throws -> JSONValue {
        guard (0...43200).contains(timeout) else { throw FleetError(.invalidParameterValue, "VisibilityTimeout must be between 0 and 43200 seconds") }
        let q = try queue(url)
        if try !store.changeVisibility(queue: q.id, handle: receiptHandle, visibleAt: Self.later(now, seconds: timeout), at: now) { throw FleetError(.receiptHandleIsInvalid, "The input receipt handle is not a valid receipt handle") }
        return .object([])
    }

    public func purgeQueue(url: String) throws -> JSONValue {
        let q = try queue(url)
        try store.purge(queue: q.id)
        return .object([])
    }
}
