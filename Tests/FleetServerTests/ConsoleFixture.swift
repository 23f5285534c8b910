// The console's tests: a small fleet on a temporary database at fixed times (no wall clock:
// the dispatcher's clock is a ManualClock), a dispatcher answering requests in process, and
// a logged-in browser's cookie and CSRF token.
@testable import FleetServer
import FleetIndex
import Foundation

final class ConsoleFixture {
    static let t0 = Timestamp.parse("2026-11-28T10:00:00Z")!
    /// The server's clock: 30 minutes after pump-17 went away, just after the 10:30 tick.
    static let now = t0 + 31 * 60_000
    static let profile = "Disconnect_duration_5m"
    static let topicName = "Disconnected_things_notification"

    let dir: URL
    let clock = ManualClock(ConsoleFixture.now)
    let dispatcher: Dispatcher
    var database: String { dir.appendingPathComponent("fleet.sqlite").path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("fleet.sqlite").path
        try Self.seed(try FleetDatabase(path: path))
        var config = ServerConfiguration(databasePath: path)
        config.accessKeyId = "AKIDLOCAL"
        config.secretAccessKey = "s3cret"
        config.queriesDirectory = dir.appendingPathComponent("queries").path
        dispatcher = Dispatcher(configuration: config, pool: DatabasePool(open: { try FleetDatabase(path: path) }), runner: nil, clock: clock)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// pump-17 (Pump, denver, in plant-a, a shadow holding markup) connects at t0 and is
    /// lost a minute later; pump-18 connects and stays; pump-19 never connects. The profile
    /// alerts at 5 minutes disconnected; evaluation runs every 5 minutes to t0 + 30 min.
    static func seed(_ db: FleetDatabase, evaluateAt: Int64 = t0 + 30 * 60_000) throws {
        let r = Registry(db)
        _ = try r.createThingType(name: "Pump", properties: nil, at: t0 - 3_600_000)
        for (name, site) in [("pump-17", "denver"), ("pump-18", "denver"), ("pump-19", "austin")] {
            _ = try r.createThing(name: name, typeName: "Pump", attributes: [("site", site), ("model", "P200")], at: t0 - 3_600_000)
        }
        _ = try r.createThingGroup(name: "plant-a", parent: nil, properties: nil, at: t0 - 3_600_000)
        _ = try r.addThingToThingGroup(group: "plant-a", thingName: "pump-17", overrideDynamicGroups: false, at: t0 - 3_600_000)
        _ = try r.updateThingShadow(thingName: "pump-17", shadowName: nil,
                                    payload: try JSONValue.parse(#"{"state":{"reported":{"temp":71.5,"note":"<script>alert(1)</script>"}}}"#), at: t0 - 3_600_000)
        let n = Notifications(db)
        let topic = try n.createTopic(name: topicName, at: t0)["TopicArn"]!.stringValue!
        _ = try n.createQueue(name: "Disconnect_thing_notification_queue", attributes: [:], at: t0)
        _ = try n.subscribe(topicARN: topic, protocol: "sqs", endpoint: db.sqsARN("Disconnect_thing_notification_queue"), at: t0)
        let d = Defender(db)
        _ = try d.createSecurityProfile(name: profile, description: "Disconnected for 5 minutes or more",
                                        behaviors: try Behavior.alertWhen("Disconnected_5m: aws:disconnect-duration >= 5"),
                                        alertTargets: try JSONValue.parse(#"{"SNS":{"alertTargetArn":"\#(topic)","roleArn":"arn:aws:iam::123456789012:role/alerts"}}"#),
                                        additionalMetrics: nil, at: t0)
        _ = try d.attachSecurityProfile(name: profile, targetARN: db.iotARN("all/things"))
        let p = Presence(db)
        _ = try p.simulateConnect(thingName: "pump-17", clientId: nil, ip: nil, at: t0)
        _ = try p.simulateConnect(thingName: "pump-18", clientId: nil, ip: nil, at: t0)
        _ = try p.simulateDisconnect(thingName: "pump-17", clientId: nil, reason: "CONNECTION_LOST", at: t0 + 60_000)
        // Every 5 minutes, as serve's runner does (a first evaluation alone starts at its own tick).
        var t = t0 + 5 * 60_000
        while t <= evaluateAt {
            _ = try EvaluationCycle(db).evaluate(at: t)
            t += 5 * 60_000
        }
    }

    /// The datapoints ListMetricValues has for a thing in a range.
    func datapoints(_ thing: String, from: Int64, to: Int64) throws -> Int {
        let db = try FleetDatabase(path: database)
        let r = try Defender(db).listMetricValues(thingName: thing, metric: "aws:disconnect-duration", start: from, end: to, dimension: nil,
                                                  maxResults: 10_000, nextToken: nil)
        return r["metricDatumList"]?.arrayValue?.count ?? 0
    }

    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var location: String? { header("location") }
    }

    func request(_ method: String, _ target: String, form: [(String, String)]? = nil, body: String? = nil, cookie: String? = nil) async -> Response {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var headers: [(name: String, value: String)] = [("host", "127.0.0.1")]
        if let cookie { headers.append(("cookie", "\(Console.cookieName)=\(cookie)")) }
        var bytes: [UInt8] = []
        if let form {
            headers.append(("content-type", "application/x-www-form-urlencoded"))
            bytes = Array(form.map { ConsoleFormat.percentEncode($0.0) + "=" + ConsoleFormat.percentEncode($0.1) }.joined(separator: "&").utf8)
        } else if let body {
            headers.append(("content-type", "application/x-www-form-urlencoded"))
            bytes = Array(body.utf8)
        }
        let r = SignedRequest(method: method, rawPath: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: bytes)
        let w = await dispatcher.handle(r)
        return Response(status: w.status, headers: w.headers, body: String(decoding: w.body, as: UTF8.self))
    }

    /// Logs in; the session's token and CSRF token.
    func login() async throws -> (cookie: String, csrf: String) {
        let r = await request("POST", "/console/login", form: [("accessKeyId", "AKIDLOCAL"), ("secretAccessKey", "s3cret"), ("next", "/console")])
        guard r.status == 303, let set = r.header("set-cookie"),
              let value = set.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last else { throw LoginFailed(status: r.status) }
        let cookie = String(value)
        let page = await request("GET", "/console", cookie: cookie)
        guard let csrf = Self.csrf(in: page.body) else { throw LoginFailed(status: page.status) }
        return (cookie, csrf)
    }

    struct LoginFailed: Error { var status: Int }

    static func csrf(in html: String) -> String? {
        guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    /// How often `needle` occurs in `haystack`.
    static func count(_ needle: String, in haystack: String) -> Int {
        haystack.components(separatedBy: needle).count - 1
    }
}
