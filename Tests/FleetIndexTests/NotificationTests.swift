// SNS and SQS: one message per violation event, visibility timeouts, redelivery, dead letters.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

@Suite struct NotificationTests {
    let t0 = Fixtures.t0

    func walkthrough(backend: Backend = .sqlite, suppress: Bool = false) throws -> (FleetDatabase, String) {
        let db = try Fixtures.database(backend)
        let n = Notifications(db)
        let topic = try n.createTopic(name: "T", at: 0)["TopicArn"]!.stringValue!
        let url = try n.createQueue(name: "Q", attributes: [:], at: 0)["QueueUrl"]!.stringValue!
        _ = try n.subscribe(topicARN: topic, protocol: "sqs", endpoint: db.sqsARN("Q"), at: 0)
        var b = Fixtures.behaviors()
        if suppress, case .array(var xs) = b, case .object(var ms) = xs[0] {
            ms.append(JSONMember("suppressAlerts", .bool(true)))
            xs[0] = .object(ms)
            b = .array(xs)
        }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: b,
                                                   alertTargets: jsonObject([("SNS", jsonObject([("alertTargetArn", .string(topic)), ("roleArn", .string("arn:aws:iam::1:role/r"))]))]),
                                                   additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        _ = try Registry(db).createThing(name: "d", typeName: nil, attributes: nil, at: 0)
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + 60_000, .disconnected)])
        return (db, url)
    }

    func receive(_ db: FleetDatabase, _ url: String, at: Int64) throws -> [JSONValue] {
        try Notifications(db).receiveMessage(url: url, max: 10, visibilityTimeout: nil, wait: 0, at: at)["Messages"]?.arrayValue ?? []
    }

    @Test(arguments: Backend.allCases) func exactlyOneMessagePerEventAcrossCatchUpAndRepeats(_ backend: Backend) throws {
        let (db, url) = try walkthrough(backend: backend)
        _ = try EvaluationCycle(db).evaluate(at: t0)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * 60_000)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * 60_000)
        let msgs = try receive(db, url, at: t0 + 31 * 60_000)
        #expect(msgs.count == 1)
        let env = try JSONValue.parse(msgs[0]["Body"]!.stringValue!)
        #expect(env["Type"]?.stringValue == "Notification")
        let m = try JSONValue.parse(env["Message"]!.stringValue!)
        #expect(m.objectValue?.map(\.key).sorted() == ["behavior", "metricValue", "securityProfileName", "thingName", "violationEventTime", "violationEventType", "violationId"])
        #expect(msgs[0]["MD5OfBody"]?.stringValue == MD5.hex(msgs[0]["Body"]!.stringValue!))
    }

    @Test(arguments: Backend.allCases) func suppressedBehaviorsPublishNothing(_ backend: Backend) throws {
        let (db, url) = try walkthrough(backend: backend, suppress: true)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * 60_000)
        #expect(try db.connection.scalar("SELECT count(*) FROM violation_event")?.int == 1)
        #expect(try receive(db, url, at: t0 + 31 * 60_000).isEmpty)
    }

    @Test(arguments: Backend.allCases) func visibilityTimeoutAndRedelivery(_ backend: Backend) throws {
        let (db, url) = try walkthrough(backend: backend)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * 60_000)
        let at = t0 + 31 * 60_000
        let first = try receive(db, url, at: at)
        #expect(first.count == 1)
        #expect(try receive(db, url, at: at + 29_000).isEmpty)          // hidden for 30 s
        let again = try receive(db, url, at: at + 30_000)               // visible again
        #expect(again.count == 1 && again[0]["MessageId"] == first[0]["MessageId"])
        // An earlier handle still deletes the message (as standard SQS queues do); then the latest one is stale.
        _ = try Notifications(db).deleteMessage(url: url, receiptHandle: first[0]["ReceiptHandle"]!.stringValue!)
        #expect(throws: FleetError.self) { try Notifications(db).deleteMessage(url: url, receiptHandle: again[0]["ReceiptHandle"]!.stringValue!) }
        #expect(try receive(db, url, at: at + 120_000).isEmpty)
    }

    @Test(arguments: Backend.allCases) func deadLetterQueueAfterMaxReceives(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let n = Notifications(db)
        let url = try n.createQueue(name: "work", attributes: [:], at: 0)["QueueUrl"]!.stringValue!
        let dlq = try n.createQueue(name: "dead", attributes: [:], at: 0)["QueueUrl"]!.stringValue!
        _ = try n.setQueueAttributes(url: url, attributes: ["RedrivePolicy": #"{"deadLetterTargetArn":"\#(db.sqsARN("dead"))","maxReceiveCount":"2"}"#,
                                                            "VisibilityTimeout": "10"])
        _ = try n.sendMessage(url: url, body: "poison", at: 0)
        #expect(try receive(db, url, at: 0).count == 1)
        #expect(try receive(db, url, at: 10_000).count == 1)
        #expect(try receive(db, url, at: 20_000).isEmpty)     // third receive: moved to the dead-letter queue
        #expect(try receive(db, dlq, at: 20_000).first?["Body"]?.stringValue == "poison")
    }

    @Test func md5MatchesKnownDigests() {
        #expect(MD5.hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex("The quick brown fox jumps over the lazy dog") == "9e107d9d372bb6826bd81d3542a419d6")
    }
}

@Suite struct WebhookTests {
    @Test(arguments: Backend.allCases) func failingTwiceThenSucceedingDeliversOnceWithBackoff(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let n = Notifications(db)
        let topic = try n.createTopic(name: "T", at: 0)["TopicArn"]!.stringValue!
        _ = try n.subscribe(topicARN: topic, protocol: "https", endpoint: "https://ops.example.com/hooks/iot", at: 0)
        try db.connection.transaction { _ = try n.publish(topicARN: topic, message: "hello", subject: nil, at: 1000) }
        var calls: [(String, [String: String], String)] = []
        var answers = [500, 503, 200]
        let send: WebhookDelivery.Sender = { url, headers, body in calls.append((url, headers, body)); return answers.removeFirst() }
        let w = WebhookDelivery(db)
        #expect(try w.deliverDue(at: 1000, send: send) == .init(delivered: 0, failed: 1))
        #expect(try w.deliverDue(at: 1500, send: send) == .init(delivered: 0, failed: 0))   // backing off (1 s)
        #expect(try w.deliverDue(at: 2000, send: send) == .init(delivered: 0, failed: 1))
        #expect(try w.nextAttempt() == 4000)                                                   // then 2 s
        #expect(try w.deliverDue(at: 4000, send: send) == .init(delivered: 1, failed: 0))
        #expect(try w.deliverDue(at: 100_000, send: send) == .init(delivered: 0, failed: 0))  // delivered once
        #expect(calls.count == 3)
        #expect(calls[0].1["x-amz-sns-message-type"] == "Notification" && calls[0].1["x-amz-sns-topic-arn"] == topic)
        #expect(try JSONValue.parse(calls[2].2)["Message"]?.stringValue == "hello")
    }

    @Test func backoffDoublesUpToAnHour() {
        #expect((1...5).map { WebhookDelivery.backoff(afterFailures: $0) } == [1000, 2000, 4000, 8000, 16000])
        #expect(WebhookDelivery.backoff(afterFailures: 40) == 3_600_000)
    }
}

/// A real HTTP server on the loopback (python3), answering 500, 503, then 200.
@Suite struct WebhookServerTests {
    @Test(arguments: Backend.allCases) func realServerGetsTheMessageOnceDelivered(_ backend: Backend) throws {
        let dir = testRoot.appendingPathComponent("hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = """
            import http.server, sys, json
            answers = [500, 503, 200]
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers['Content-Length']))
                    code = answers.pop(0) if answers else 200
                    with open(sys.argv[1], 'a') as f:
                        f.write(json.dumps({'code': code, 'type': self.headers['x-amz-sns-message-type'], 'body': body.decode()}) + '\\n')
                    self.send_response(code); self.end_headers()
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            print(s.server_address[1], flush=True)
            s.timeout = 20
            for _ in range(3): s.handle_request()
            """
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", script, dir.appendingPathComponent("log.jsonl").path]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { server.terminate() }
        var portText = ""
        while !portText.hasSuffix("\n") {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            portText += String(decoding: d, as: UTF8.self)
        }
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let db = try Fixtures.database(backend)
        let n = Notifications(db)
        let topic = try n.createTopic(name: "T", at: 0)["TopicArn"]!.stringValue!
        _ = try n.subscribe(topicARN: topic, protocol: "http", endpoint: "http://127.0.0.1:\(port)/hook", at: 0)
        try db.connection.transaction { _ = try n.publish(topicARN: topic, message: "alarm!", subject: nil, at: 0) }
        let w = WebhookDelivery(db)
        var delivered = 0
        var at: Int64 = 0
        for _ in 0..<3 {
            delivered += try w.deliverDue(at: at).delivered
            at = try w.nextAttempt() ?? at
        }
        #expect(delivered == 1)
        server.waitUntilExit()
        let log = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(log.count == 3)
        #expect(log.last?.contains("\"code\": 200") == true && log.last?.contains("alarm!") == true)
    }
}

@Suite struct DeliveryRestartTests {
    /// A delivery written with its event survives the process: a new connection to the same
    /// file finds it pending and delivers it.
    @Test(arguments: Backend.allCases) func pendingDeliveriesSurviveARestart(_ backend: Backend) throws {
        let path: String
        do {
            let db = try Fixtures.database(backend)
            path = db.connection.location
            let n = Notifications(db)
            let topic = try n.createTopic(name: "T", at: 0)["TopicArn"]!.stringValue!
            _ = try n.subscribe(topicARN: topic, protocol: "https", endpoint: "https://hooks.example/iot", at: 0)
            _ = try n.createQueue(name: "Q", attributes: [:], at: 0)
            _ = try n.subscribe(topicARN: topic, protocol: "sqs", endpoint: db.sqsARN("Q"), at: 0)
            try db.connection.transaction { _ = try n.publish(topicARN: topic, message: "kept", subject: nil, at: 0) }
            #expect(try WebhookDelivery(db).deliverDue(at: 0, send: { _, _, _ in nil }) == .init(delivered: 0, failed: 1))
        }
        let reopened = try FleetDatabase(path: path)
        var bodies: [String] = []
        let r = try WebhookDelivery(reopened).deliverDue(at: 10_000, send: { _, _, body in bodies.append(body); return 204 })
        #expect(r == .init(delivered: 1, failed: 0))
        #expect(bodies.count == 1 && bodies[0].contains("kept"))
        let msgs = try Notifications(reopened).receiveMessage(url: "Q", max: 10, visibilityTimeout: nil, wait: 0, at: 10_000)["Messages"]?.arrayValue ?? []
        #expect(msgs.count == 1)
    }
}

/// The console's peek: the newest messages, as they are, changing nothing.
@Suite struct PeekTests {
    @Test(arguments: Backend.allCases) func peekShowsTheNewestAndChangesNothing(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let n = Notifications(db)
        let url = try n.createQueue(name: "peeked", attributes: [:], at: 0)["QueueUrl"]!.stringValue!
        for i in 1...4 { _ = try n.sendMessage(url: url, body: "m\(i)", at: Int64(i) * 1000) }
        let first = try n.receiveMessage(url: url, max: 1, visibilityTimeout: 30, wait: 0, at: 5000)["Messages"]?.arrayValue ?? []
        #expect(first.first?["Body"]?.stringValue == "m1")
        let peek = try n.peekMessages(url: url, limit: 3)["Messages"]?.arrayValue ?? []
        #expect(peek.map { $0["Body"]?.stringValue } == ["m4", "m3", "m2"])
        let all = try n.peekMessages(url: "peeked", limit: 10)["Messages"]?.arrayValue ?? []
        #expect(all.map { $0["ApproximateReceiveCount"]?.stringValue } == ["0", "0", "0", "1"], "m1 was received once, by the receive")
        // Peeking counted nothing and hid nothing: the three unreceived ones are still visible.
        let attrs = try n.getQueueAttributes(url: url, names: ["All"], at: 6000)["Attributes"]
        #expect(attrs?["ApproximateNumberOfMessages"]?.stringValue == "3")
        #expect(attrs?["ApproximateNumberOfMessagesNotVisible"]?.stringValue == "1")
        for bad in [0, 101] { #expect(throws: FleetError.self) { try n.peekMessages(url: url, limit: bad) } }
        #expect(throws: FleetError.self) { try n.peekMessages(url: "missing") }
    }
}
