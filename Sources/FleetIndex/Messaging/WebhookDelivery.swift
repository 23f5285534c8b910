// FleetIndex: delivery of SNS notifications to http/https subscriptions. Pending
// deliveries live in the database (written with the violation event), are POSTed with the
// SNS headers and retried with exponential backoff until the endpoint answers 2xx; a
// restart resumes them.
import Foundation

/// Sends pending webhook deliveries.
public struct WebhookDelivery {
    public let db: FleetDatabase
    var store: MessagingStore { db.messaging }
    public init(_ db: FleetDatabase) { self.db = db }

    /// One HTTP POST; returns the status code, or nil when no answer came.
    public typealias Sender = (_ url: String, _ headers: [String: String], _ body: String) -> Int?

    /// The wait before attempt `n + 1` after `n` failures: 1 s, 2 s, 4 s ... at most 1 hour.
    public static func backoff(afterFailures n: Int) -> Int64 {
        Int64(min(3_600_000, 1000 << min(n - 1, 22)))
    }

    public struct Result: Equatable {
        public var delivered = 0
        public var failed = 0
        public init(delivered: Int = 0, failed: Int = 0) {
            self.delivered = delivered
            self.failed = failed
        }
    }

    /// Attempts every delivery due at `now`.
    @discardableResult
    public func deliverDue(at now: Int64, send: Sender = WebhookDelivery.post) throws -> Result {
        let due = try store.dueDeliveries(at: now)
        var result = Result()
        for d in due {
            let (id, body, messageId, attempts, endpoint, subscription, topic) = (d.id, d.body, d.messageId, d.attempts, d.endpoint, d.subscriptionARN, d.topicARN)
            let headers = ["Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification",
                           "x-amz-sns-message-id": messageId, "x-amz-sns-topic-arn": topic, "x-amz-sns-subscription-arn": subscription,
                           "User-Agent": "fleetdex (Amazon Simple Notification Service Agent)"]
            let status = send(endpoint, headers, body)
            if let status, (200..<300).contains(status) {
                try store.markDelivered(id, at: now)
                result.delivered += 1
            } else {
                let error = status.map { "HTTP \($0)" } ?? "no answer"
                try store.markFailed(id, retryAt: now + Self.backoff(afterFailures: attempts + 1), error: error)
                result.failed += 1
            }
        }
        return result
    }

    /// The earliest pending attempt, if any.
    public func nextAttempt() throws -> Int64? {
        try store.nextAttempt()
    }

    /// A real POST, made by the curl command-line client (10 s timeout). curl keeps TLS and
    /// HTTP out of this binary: linking FoundationNetworking would add about 5 ms to the start
    /// of every command for the sake of a rare delivery.
    public static func post(_ url: String, _ headers: [String: String], _ body: String) -> Int? {
        var args = ["-X", "POST", "--data-binary", "@-"]
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { args += ["-H", "\(k): \(v)"] }
        return request(url, args, body: Data(body.utf8))
    }

    /// One HTTP request through curl (10 s at most); the status code, or nil when no answer came.
    /// Linking FoundationNetworking would cost every command's start-up, so curl does it.
    public static func request(_ url: String, _ arguments: [String], body: Data? = nil) -> Int? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"] + arguments + ["--", url]
        let input = Pipe(), output = Pipe()
        p.standardInput = body == nil ? FileHandle.nullDevice : input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        if let body {
            input.fileHandleForWriting.write(body)
            try? input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let code = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), code > 0 else { return nil }
        return code
    }
}
