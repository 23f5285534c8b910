// fleetdex demo: the Disconnect Duration walkthrough on a fresh database with a virtual clock,
// narrated step by step with the equivalent command for each step; then the same story at
// fleet scale. Exits non-zero if any step does not turn out as narrated.
import ArgumentParser
import FleetIndex
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(command: "demo", abstract: "The Disconnect Duration walkthrough, narrated, then 10,000 devices with churn.",
        discussion: example("fleetdex demo", "fleetdex demo --db walkthrough.sqlite --devices 2000"))
    @Option(help: "Keep the database here (default: a temporary file).") var db: String?
    @Option(help: "Devices in the fleet-scale part (0 skips it).") var devices: Int = 10_000
    @Flag(help: "No colours.") var plain = false

    final class Narrator {
        var failures = 0
        let color: Bool
        init(color: Bool) { self.color = color }
        func c(_ code: String, _ s: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func step(_ title: String, _ command: String) {
            print("\n" + c("1", "▶ " + title))
            print(c("2", "  $ " + command))
        }
        func say(_ s: String) { print("  " + s.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")) }
        func check(_ ok: Bool, _ what: String) {
            if ok { print(c("32", "  ✓ ") + what) } else { failures += 1; print(c("31", "  ✗ expected: ") + what) }
        }
    }

    func run() throws {
        let n = Narrator(color: !plain && isatty(1) != 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = db ?? dir.appendingPathComponent("demo.sqlite").path
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
        let fleet = try FleetDatabase(path: path)
        let saved = SavedQueries(directory: dir.appendingPathComponent("Queries").path)
        print(n.c("1", "fleetdex demo") + ": the Disconnect Duration walkthrough on \(path), with a virtual clock.")
        try walkthrough(fleet, saved, n)
        if devices > 0 { try fleetScale(n) }
        print("")
        if n.failures > 0 {
            print(n.c("31", "\(n.failures) step(s) did not turn out as narrated."))
            throw ExitCode(1)
        }
        print(n.c("32", "Every step turned out as narrated."))
        if db == nil { try? FileManager.default.removeItem(at: dir) }
    }

    func walkthrough(_ db: FleetDatabase, _ saved: SavedQueries, _ n: Narrator) throws {
        let t0 = Timestamp.parse("2026-11-28T10:00:20Z")!
        let min: Int64 = 60_000
        func at(_ ms: Int64) -> String { Timestamp.isoZ(ms).replacingOccurrences(of: ".000Z", with: "Z") }
        let notes = Notifications(db)

        n.step("Create the SNS topic and the SQS queue, and subscribe the queue to the topic",
               "fleetdex sns create-topic --name Disconnected_things_notification && fleetdex sqs create-queue --queue-name Disconnect_thing_notification_queue && fleetdex sns subscribe --protocol sqs ...")
        let topic = try notes.createTopic(name: "Disconnected_things_notification", at: t0)["TopicArn"]!.stringValue!
        let queue = try notes.createQueue(name: "Disconnect_thing_notification_queue", attributes: [:], at: t0)["QueueUrl"]!.stringValue!
        _ = try notes.subscribe(topicARN: topic, protocol: "sqs", endpoint: db.sqsARN("Disconnect_thing_notification_queue"), at: t0)
        n.say("topic \(topic)\nqueue \(queue)")

        n.step("Create the security profile: alert when a device has been disconnected for 5 minutes or more",
               "fleetdex create-security-profile --security-profile-name Disconnect_duration_5m --alert-when 'Disconnected_5m: aws:disconnect-duration >= 5' --alert-targets '{\"SNS\":{...}}'")
        let defender = Defender(db)
        _ = try defender.createSecurityProfile(name: "Disconnect_duration_5m", description: "Alert when disconnected for 5 minutes or more",
                                               behaviors: try Behavior.alertWhen("Disconnected_5m: aws:disconnect-duration >= 5"),
                                               alertTargets: jsonObject([("SNS", jsonObject([("alertTargetArn", .string(topic)),
                                                                                             ("roleArn", .string("arn:aws:iam::\(db.account):role/DeviceDefenderSnsPublish"))]))]),
                                               additionalMetrics: nil, at: t0)
        let crit = try defender.describeSecurityProfile(name: "Disconnect_duration_5m")["behaviors"]?.arrayValue?.first?["criteria"]
        n.say("stored in AWS terms (criteria state normal behaviour): \(crit?.compact ?? "?")")
        n.check(crit?["comparisonOperator"]?.stringValue == "less-than", "the alert condition '>= 5' is stored as AWS's 'less-than 5'")
        _ = try defender.attachSecurityProfile(name: "Disconnect_duration_5m", targetARN: db.iotARN("all/things"))
        n.say("attached to \(db.iotARN("all/things"))")

        n.step("Register the device", "fleetdex create-thing --thing-name test_thing")
        let thing = try Registry(db).createThing(name: "test_thing", typeName: nil, attributes: nil, at: t0)
        n.say("thingId \(thing["thingId"]?.stringValue ?? "?")")

        n.step("The simulated device connects at \(at(t0)) and drops off a minute later",
               "fleetdex connect --thing-name test_thing --at \(at(t0)) && fleetdex disconnect --thing-name test_thing --at \(at(t0 + min)) --reason CONNECTION_LOST")
        let presence = Presence(db)
        let (c1, _) = try presence.simulateConnect(thingName: "test_thing", clientId: nil, ip: "203.0.113.7", at: t0)
        let (d1, _) = try presence.simulateDisconnect(thingName: "test_thing", clientId: nil, reason: "CONNECTION_LOST", at: t0 + min)
        n.say("connected:    \(c1.payload.compact)\ndisconnected: \(d1.payload.compact)")

        let cycle = EvaluationCycle(db)
        n.step("Evaluate at the 10:05 tick: 3 minutes disconnected", "fleetdex evaluate --at \(at(t0 + 5 * min))")
        let e1 = try cycle.evaluate(at: t0 + 5 * min)
        n.check(e1.raised == 0, "no violation yet (3 < 5)")
        n.step("Evaluate at the 10:10 tick: 8 minutes disconnected", "fleetdex evaluate --at \(at(t0 + 10 * min))")
        let e2 = try cycle.evaluate(at: t0 + 10 * min)
        n.check(e2.raised == 1 && e2.alerts == 1, "one violation raised and one alert published")

        n.step("Read the notification from the queue", "fleetdex sqs receive-message --queue-url Disconnect_thing_notification_queue --max-number-of-messages 10")
        let msgs = try notes.receiveMessage(url: queue, max: 10, visibilityTimeout: nil, wait: 0, at: t0 + 10 * min + 5000)["Messages"]?.arrayValue ?? []
        n.check(msgs.count == 1, "exactly one message")
        var violationId = ""
        if let m = msgs.first, let body = m["Body"]?.stringValue, let env = try? JSONValue.parse(body), let text = env["Message"]?.stringValue,
           let message = try? JSONValue.parse(text) {
            n.say("SNS envelope: Type=\(env["Type"]?.stringValue ?? "?") TopicArn=\(env["TopicArn"]?.stringValue ?? "?")\nMessage:\n" + message.pretty)
            violationId = message["violationId"]?.stringValue ?? ""
            let isAlarm = message["violationEventType"]?.stringValue == "in-alarm"
            let count = message["metricValue"]?["count"]?.int64Value
            n.check(isAlarm && count == 8, "an in-alarm event with metricValue.count 8")
            _ = try notes.deleteMessage(url: queue, receiptHandle: m["ReceiptHandle"]!.stringValue!)
        }

        let query = "deviceDefender.Disconnect_duration_5m.*.inViolation:true"
        n.step("Find the violating devices with a fleet index query, and save the query", "fleetdex search '\(query)' && fleetdex queries save disconnected-5m '\(query)'")
        let result = try FleetIndex.Search(db).searchIndex(indexName: nil, query: query, maxResults: nil, nextToken: nil, at: t0 + 10 * min)
        let foundNames: [String] = (result["things"]?.arrayValue ?? []).compactMap { $0["thingName"]?.stringValue }
        n.say("found: " + foundNames.joined(separator: ", "))
        n.check(foundNames == ["test_thing"], "the search finds test_thing")
        try saved.save("disconnected-5m", query: query, description: "Things in violation of Disconnect_duration_5m")

        n.step("Keep them in a dynamic thing group built from the saved query",
               "fleetdex create-dynamic-thing-group --thing-group-name Disconnected_things --query-string @disconnected-5m")
        let groups = DynamicGroups(db)
        _ = try groups.createDynamicThingGroup(name: "Disconnected_things", query: try saved.resolve("@disconnected-5m"), indexName: nil,
                                               queryVersion: nil, properties: nil, at: t0 + 10 * min + 20_000)
        let members = try Registry(db).listThingsInThingGroup(group: "Disconnected_things", recursive: false, maxResults: nil, nextToken: nil)["things"]
        n.say("members: \(members?.compact ?? "[]")")
        n.check(members == .array([.string("test_thing")]), "the group holds test_thing")

        n.step("Evaluate at 10:15 and chart the disconnect duration (the console's Defender metrics chart)",
               "fleetdex list-metric-values --thing-name test_thing --metric-name aws:disconnect-duration --start-time \(at(t0)) --end-time \(at(t0 + 16 * min)) --output chart")
        let e3 = try cycle.evaluate(at: t0 + 15 * min)
        n.check(e3.raised == 0 && e3.alerts == 0, "no second alert while the alarm stays on")
        let values = try defender.listMetricValues(thingName: "test_thing", metric: "aws:disconnect-duration", start: t0, end: t0 + 16 * min,
                                                   dimension: nil, maxResults: nil, nextToken: nil)["metricDatumList"]?.arrayValue ?? []
        let points = values.compactMap { d -> (String, Double)? in
            guard let t = d["timestamp"]?.stringValue, let v = d["value"]?["count"]?.doubleValue else { return nil }
            return (t, v)
        }
        n.say(Chart.render(points, title: "aws:disconnect-duration of test_thing (minutes)", height: 5))
        n.check(points.map(\.1) == [3, 8, 13], "datapoints 3, 8, 13 at the 10:05, 10:10 and 10:15 ticks")

        n.step("The device reconnects at 10:16; evaluate at the 10:20 tick", "fleetdex connect --thing-name test_thing --at \(at(t0 + 16 * min)) && fleetdex evaluate --at \(at(t0 + 20 * min))")
        _ = try presence.simulateConnect(thingName: "test_thing", clientId: nil, ip: "203.0.113.7", at: t0 + 16 * min)
        let e4 = try cycle.evaluate(at: t0 + 20 * min)
        n.check(e4.cleared == 1 && e4.left == 1, "the alarm clears and test_thing leaves the group")
        let cleared = try notes.receiveMessage(url: queue, max: 10, visibilityTimeout: nil, wait: 0, at: t0 + 20 * min + 5000)["Messages"]?.arrayValue ?? []
        if let body = cleared.first?["Body"]?.stringValue, let env = try? JSONValue.parse(body), let m = env["Message"]?.stringValue.flatMap({ try? JSONValue.parse($0) }) {
            n.say("cleared alert: \(m.compact)")
            n.check(m["violationEventType"]?.stringValue == "alarm-cleared" && m["violationId"]?.stringValue == violationId,
                    "an alarm-cleared message with the same violationId")
            _ = try notes.deleteMessage(url: queue, receiptHandle: cleared[0]["ReceiptHandle"]!.stringValue!)
        } else {
            n.check(false, "an alarm-cleared message")
        }

        n.step("The group report: who joined and who left, and why", "fleetdex group-report --since \(at(t0)) --output table")
        let report = try groups.report(group: "Disconnected_things", since: t0)
        for g in report["groups"]?.arrayValue ?? [] {
            for (change, sign) in [("joined", "+"), ("left", "-")] {
                for e in g[change]?.arrayValue ?? [] {
                    n.say("\(sign) \(change.padding(toLength: 6, withPad: " ", startingAt: 0)) \(e["time"]?.stringValue ?? "")  \(e["thingName"]?.stringValue ?? "")  (\(e["reason"]?.stringValue ?? ""))")
                }
            }
        }
        let g0 = report["groups"]?.arrayValue?.first
        n.check(g0?["joined"]?.arrayValue?.count == 1 && g0?["left"]?.arrayValue?.count == 1, "one join and one leave")

        n.step("Clean up as the walkthrough does", "fleetdex detach-security-profile ... && fleetdex delete-security-profile ... && fleetdex delete-dynamic-thing-group ... && fleetdex delete-thing ...")
        _ = try defender.detachSecurityProfile(name: "Disconnect_duration_5m", targetARN: db.iotARN("all/things"), at: t0 + 21 * min)
        _ = try defender.deleteSecurityProfile(name: "Disconnect_duration_5m", expectedVersion: nil, at: t0 + 21 * min)
        _ = try groups.deleteDynamicThingGroup(name: "Disconnected_things", expectedVersion: nil)
        _ = try Registry(db).deleteThing(name: "test_thing", expectedVersion: nil, at: t0 + 21 * min)
        _ = try notes.deleteQueue(url: queue)
        _ = try notes.deleteTopic(arn: topic)
        n.check(try Defender(db).listSecurityProfiles(maxResults: nil, nextToken: nil)["securityProfileIdentifiers"] == .array([]), "nothing left behind")
    }

    /// The same story with `devices` simulated devices over two virtual hours.
    func fleetScale(_ n: Narrator) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-demo-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try FleetDatabase(path: dir.appendingPathComponent("fleet.sqlite").path)
        let start = Timestamp.parse("2026-11-28T08:00:00Z")!
        n.step("The same story at fleet scale: \(devices) devices, two virtual hours of realistic churn",
               "fleetdex import-things fleet.jsonl && fleetdex ingest-events churn.jsonl && fleetdex evaluate --at ... (every tick)")
        let clock0 = Date()
        var lines = ""
        for i in 0..<devices { lines += #"{"thingName":"dev-\#(String(format: "%05d", i))","thingTypeName":"Sensor","attributes":{"site":"site-\#(i % 25)"}}"# + "\n" }
        try lines.write(to: dir.appendingPathComponent("fleet.jsonl"), atomically: true, encoding: .utf8)
        _ = try Importer(db).importThings(try LineReader(path: dir.appendingPathComponent("fleet.jsonl").path), at: start)
        let topic = try Notifications(db).createTopic(name: "alerts", at: start)["TopicArn"]!.stringValue!
        _ = try Notifications(db).createQueue(name: "alerts-q", attributes: [:], at: start)
        _ = try Notifications(db).subscribe(topicARN: topic, protocol: "sqs", endpoint: db.sqsARN("alerts-q"), at: start)
        _ = try Defender(db).createSecurityProfile(name: "Disconnect_duration_5m", description: nil, behaviors: try Behavior.alertWhen("Disconnected_5m: aws:disconnect-duration >= 5"),
                                                   alertTargets: jsonObject([("SNS", jsonObject([("alertTargetArn", .string(topic)), ("roleArn", .string("arn:aws:iam::\(db.account):role/r"))]))]),
                                                   additionalMetrics: nil, at: start)
        _ = try Defender(db).attachSecurityProfile(name: "Disconnect_duration_5m", targetARN: db.iotARN("all/things"))
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "Disconnected_things", query: "deviceDefender.Disconnect_duration_5m.*.inViolation:true",
                                                          indexName: nil, queryVersion: nil, properties: nil, at: start)
        // Churn: everyone connects; each 5 minutes about 1% drop off, for 1 to 30 minutes.
        var rng = SystemRandomNumberGenerator()
        var events: [LifecycleEvent] = []
        var version = [Int64](repeating: 1, count: devices)
        for i in 0..<devices { events.append(LifecycleEvent(clientId: "dev-\(String(format: "%05d", i))", timestamp: start + Int64(i % 60) * 1000, kind: .connected, session: "s\(i)-1", version: 1)) }
        var t = start + 300_000
        while t < start + 7_200_000 {
            for _ in 0..<max(1, devices / 100) {
                let i = Int.random(in: 0..<devices, using: &rng)
                let name = "dev-\(String(format: "%05d", i))"
                let down = t + Int64.random(in: 0..<300_000, using: &rng)
                let back = down + Int64.random(in: 60_000...1_800_000, using: &rng)
                events.append(LifecycleEvent(clientId: name, timestamp: down, kind: .disconnected, session: "s\(i)-\(version[i])", version: version[i], reason: "CONNECTION_LOST"))
                version[i] += 1
                events.append(LifecycleEvent(clientId: name, timestamp: back, kind: .connected, session: "s\(i)-\(version[i])", version: version[i]))
            }
            t += 300_000
        }
        events.sort { $0.timestamp < $1.timestamp }
        let presence = Presence(db)
        let cycle = EvaluationCycle(db)
        var table: [(String, Int, Int, Int, Int, Int)] = []
        var next = 0
        var totals = (raised: 0, cleared: 0, alerts: 0)
        _ = try cycle.evaluate(at: start)
        var tick = start + 300_000
        while tick <= start + 7_200_000 {
            try db.transaction {
                while next < events.count && events[next].timestamp <= tick { _ = try presence.ingest(events[next]); next += 1 }
            }
            let r = try cycle.evaluate(at: tick)
            totals.raised += r.raised; totals.cleared += r.cleared; totals.alerts += r.alerts
            let offline = try db.disconnectedThingCount()
            let members = try db.memberIDs(ofGroupNamed: "Disconnected_things").count
            if (tick - start) % 1_200_000 == 0 { table.append((Timestamp.iso(tick), next, Int(offline), r.raised, r.cleared, Int(members))) }
            tick += 300_000
        }
        n.say("tick                          events  offline  raised  cleared  in group")
        for row in table {
            n.say("\(row.0)  \(String(row.1).leftPad(6))  \(String(row.2).leftPad(7))  \(String(row.3).leftPad(6))  \(String(row.4).leftPad(7))  \(String(row.5).leftPad(8))")
        }
        let queued = try db.storedMessageCount()
        let elapsed = Date().timeIntervalSince(clock0)
        n.say("\(events.count) events, 24 ticks, \(totals.raised) violations raised, \(totals.cleared) cleared, \(totals.alerts) alerts queued, in \(String(format: "%.1f", elapsed)) s")
        n.check(totals.raised > 0 && Int64(totals.alerts) == queued, "violations were raised and every one of their events has its message in the queue")
        let search = FleetIndex.Search(db)
        let compiled = try search.compile("deviceDefender.Disconnect_duration_5m.*.inViolation:true", at: tick)
        let found = Set(try search.allIDs(compiled))
        let grouped = Set(try db.memberIDs(ofGroupNamed: "Disconnected_things"))
        n.check(found == grouped, "the dynamic group equals a fresh search")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
