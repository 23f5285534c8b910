// The runner: intake, evaluation on the clock's boundaries, and webhook delivery on its own
// thread. Real time appears here only as an upper bound on how long a step may take.
import FleetIndex
import Foundation
import Synchronization
import Testing

/// Collects what a runner reports.
final class RunnerLog: Sendable {
    private let events = Mutex<[RunnerEvent]>([])
    func add(_ e: RunnerEvent) { events.withLock { $0.append(e) } }
    var evaluations: [Int64] {
        events.withLock { $0.compactMap { if case .evaluated(let at, _, _, _, _, _, _) = $0 { return at } else { return nil } } }
    }
    var failures: [String] {
        events.withLock { $0.compactMap { if case .failed(let m) = $0 { return m } else { return nil } } }
    }
    var rejections: [Int] {
        events.withLock { $0.compactMap { if case .rejected(let line, _) = $0 { return line } else { return nil } } }
    }
}

/// A TCP port on the loopback that takes connections (the kernel completes the handshake)
/// and never answers them.
final class SilentEndpoint {
    let fd: Int32
    let port: Int
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0 }
        }
        guard bound, listen(fd, 16) == 0 else { close(fd); throw FleetError(.internalFailure, "cannot listen on the loopback") }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }
    deinit { close(fd) }

    /// Connects to `port`, sends a POST and blocks until the connection ends; nil (no answer).
    static func postAndWait(port: Int, body: String) -> Int? {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = request.withCString { send(s, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        _ = recv(s, &buffer, 64, 0)
        return nil
    }
}

/// Polls `condition` every 10 ms for at most `seconds` of real time, sleeping as a task (a
/// blocked thread would starve the other tests of the cooperative pool).
func eventually(_ seconds: Double, _ condition: () throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

@Suite struct RunnerTests {
    static let t0 = Fixtures.ms("2026-11-28T10:00:00Z")

    static func event(_ client: String, _ at: Int64, _ kind: String, session: String? = nil) -> [UInt8] {
        Array(#"{"clientId":"\#(client)","timestamp":\#(at),"eventType":"\#(kind)","sessionIdentifier":"\#(session ?? "s-" + client)","principalIdentifier":"p","versionNumber":1\#(kind == "disconnected" ? #","disconnectReason":"CONNECTION_LOST","clientInitiatedDisconnect":false"# : "")}"#.utf8)
    }

    /// A webhook endpoint that accepts the connection and never answers delays neither the
    /// commits of a slow source nor the evaluation at the clock's next boundary, nor a clean
    /// stop. No step is timed: each is checked to finish while the POST is still in flight (it
    /// ends only when the endpoint closes, after the test). A runner that waited for the POST
    /// would never finish the step, and the time limit fails the test instead of a hang.
    @Test(.timeLimit(.minutes(10)), arguments: Backend.allCases)
    func silentWebhookDelaysNeitherIntakeNorEvaluation(_ backend: Backend) async throws {
        let seed = try Fixtures.database(backend)
        let path = seed.connection.location
        let endpoint = try SilentEndpoint()
        let n = Notifications(seed)
        let topic = try n.createTopic(name: "T", at: Self.t0)["TopicArn"]!.stringValue!
        _ = try n.subscribe(topicARN: topic, protocol: "http", endpoint: "http://127.0.0.1:\(endpoint.port)/hook", at: Self.t0)
        try seed.connection.transaction { _ = try n.publish(topicARN: topic, message: "alarm!", subject: nil, at: Self.t0) }

        let clock = ManualClock(Self.t0 + 1_000)
        let posting = Mutex(0)
        let answered = Mutex(0)
        let log = RunnerLog()
        // The sender connects and writes its request, then waits for an answer that never comes
        // (until the endpoint closes at the end of the test): no timeout of its own to race.
        let port = endpoint.port
        let runner = Runner(clock: clock, open: { try FleetDatabase(path: path) },
                            sender: { _, _, body in
                                posting.withLock { $0 += 1 }
                                let r = SilentEndpoint.postAndWait(port: port, body: body)
                                answered.withLock { $0 += 1 }
                                return r
                            },
                            report: { log.add($0) })
        try runner.start()
        #expect(await eventually(600) { posting.withLock { $0 } == 1 }, "the delivery worker reached the silent endpoint")

        // A slow source: one event at a time, each committed and acknowledged while the POST waits.
        let reader = try FleetDatabase(path: path)
        for i in 0..<10 {
            let r = await runner.submit([PresenceInput(line: i + 1, json: Self.event("c\(i)", Self.t0 + Int64(i) * 1000, "connected"))])
            #expect(r.summary.accepted == 1)
            #expect(try reader.connection.scalar("SELECT count(*) FROM client")?.int == Int64(i + 1), "event \(i) is committed")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(answered.withLock { $0 } == 0, "the ten events were committed while the POST was in flight")

        // The clock reaches the 10:05 boundary: the evaluation follows, the POST still waiting.
        clock.set(Self.t0 + 300_000 + 500)
        #expect(await eventually(600) { log.evaluations == [Self.t0 + 300_000] }, "evaluated: \(log.evaluations)")
        #expect(posting.withLock { $0 } == 1 && answered.withLock { $0 } == 0, "the POST is still in flight")

        // A clean stop does not wait for the POST either.
        let totals = await runner.stop()
        #expect(answered.withLock { $0 } == 0, "stop returned while the POST was in flight")
        #expect(totals.accepted == 10)
        let pending = try reader.connection.scalar("SELECT count(*) FROM http_delivery WHERE delivered_at IS NULL")?.int
        #expect(pending == 1, "the undelivered notification stays for the next start")
    }

    /// A followed source through `feed`: bad lines are named with their line numbers, good
    /// ones kept; a clock that jumps several periods evaluates once, up to the newest boundary.
    @Test(arguments: Backend.allCases) func feedNamesBadLinesAndCatchesUp(_ backend: Backend) async throws {
        let seed = try Fixtures.database(backend)
        let path = seed.connection.location
        let clock = ManualClock(Self.t0 + 1_000)
        let log = RunnerLog()
        let runner = Runner(clock: clock, open: { try FleetDatabase(path: path) }, report: { log.add($0) })
        try runner.start()
        let lines: [[UInt8]] = [
            Self.event("a", Self.t0 + 1_000, "connected"),
            Array("not json".utf8),
            Self.event("a", Self.t0 + 2_000, "disconnected"),
            Array(#"{"clientId":"b"}"#.utf8),
        ]
        let source = AsyncStream<PresenceInput> { c in
            for (i, l) in lines.enumerated() { c.yield(PresenceInput(line: i + 1, json: l)) }
            c.finish()
        }
        try await runner.feed(source)
        clock.set(Self.t0 + 3 * 300_000 + 10)
        #expect(await eventually(600) { log.evaluations.count == 1 }, "\(log.failures)")
        let totals = await runner.stop()
        #expect(totals.accepted == 2)
        #expect(totals.rejected == 2)
        #expect(log.rejections == [2, 4])
        #expect(log.evaluations == [Self.t0 + 900_000])
    }

    /// A runner that has run a while, then another handle (another process, another server
    /// connection) creates a profile and a dynamic group: the runner's next cycle evaluates the
    /// profile and keeps the group up to date with what the runner itself ingests.
    @Test(arguments: Backend.allCases) func anotherHandlesProfileAndGroupAreSeenAtTheNextCycle(_ backend: Backend) async throws {
        let seed = try Fixtures.database(backend)
        let path = seed.connection.location
        for name in ["t1", "t2"] { _ = try Registry(seed).createThing(name: name, typeName: nil, attributes: nil, at: Self.t0) }
        let clock = ManualClock(Self.t0 + 1_000)
        let log = RunnerLog()
        let runner = Runner(clock: clock, open: { try FleetDatabase(path: path) }, report: { log.add($0) })
        try runner.start()
        // The runner ingests and evaluates with no profile and no dynamic group.
        let first = await runner.submit([PresenceInput(line: 1, json: Self.event("t1", Self.t0 + 1_000, "connected")),
                                 PresenceInput(line: 2, json: Self.event("t1", Self.t0 + 60_000, "disconnected"))])
        #expect(first.summary.accepted == 2, "\(first)")
        clock.set(Self.t0 + 300_000)
        #expect(await eventually(600) { log.evaluations.count == 1 })

        // A long-lived handle (a server's pooled connection) writes to the registry while no
        // dynamic group exists.
        let server = try FleetDatabase(path: path)
        _ = try Registry(server).updateThing(name: "t1", typeName: nil, removeThingType: false,
                                             attributePayload: ([("site", "boulder")], true), expectedVersion: nil)
        // Another handle creates the profile and the groups.
        let other = try FleetDatabase(path: path)
        _ = try Defender(other).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil,
                                                      additionalMetrics: nil, at: Self.t0 + 310_000)
        _ = try Defender(other).attachSecurityProfile(name: "P", targetARN: other.iotARN("all/things"))
        for (name, query) in [("Lost", "connectivity.disconnectReason:CONNECTION_LOST"), ("Violating", "deviceDefender.P.*.inViolation:true"),
                              ("Denver", "attributes.site:denver")] {
            _ = try DynamicGroups(other).createDynamicThingGroup(name: name, query: query, indexName: nil, queryVersion: nil, properties: nil,
                                                                 at: Self.t0 + 310_000)
        }
        func members(_ g: String) throws -> [String] {
            try Registry(other).listThingsInThingGroup(group: g, recursive: false, maxResults: nil, nextToken: nil)["things"]?.arrayValue?
                .compactMap(\.stringValue) ?? []
        }
        #expect(try members("Lost") == ["t1"])
        #expect(try members("Violating") == [])

        // The long-lived handle moves t2 to Denver; the runner ingests t2's disconnect, then
        // evaluates the next ticks.
        _ = try Registry(server).updateThing(name: "t2", typeName: nil, removeThingType: false,
                                             attributePayload: ([("site", "denver")], true), expectedVersion: nil)
        _ = await runner.submit([PresenceInput(line: 3, json: Self.event("t2", Self.t0 + 320_000, "connected")),
                                 PresenceInput(line: 4, json: Self.event("t2", Self.t0 + 330_000, "disconnected"))])
        clock.set(Self.t0 + 900_000)
        #expect(await eventually(600) { log.evaluations.count == 2 })
        // After the groups' first full build, only tracked changes refresh them.
        _ = try Registry(server).updateThing(name: "t1", typeName: nil, removeThingType: false,
                                             attributePayload: ([("site", "denver")], true), expectedVersion: nil)
        clock.set(Self.t0 + 1_200_000)
        #expect(await eventually(600) { log.evaluations.count == 3 })
        _ = await runner.stop()
        let violations = try Defender(other).listActiveViolations(thingName: nil, profile: "P", criteriaType: nil, verificationState: nil,
                                                                  maxResults: nil, nextToken: nil)["activeViolations"]?.arrayValue ?? []
        #expect(Set(violations.compactMap { $0["thingName"]?.stringValue }) == ["t1", "t2"])
        #expect(try members("Lost") == ["t1", "t2"], "t2's disconnect, ingested by the runner, is tracked for the group")
        #expect(try members("Violating") == ["t1", "t2"])
        #expect(try members("Denver") == ["t1", "t2"], "the long-lived handle's registry writes are tracked for the new group")
    }

    /// Readers on their own handles (search, describe, metric values) in parallel with the
    /// runner committing thousands of events and evaluating: no reader ever fails.
    @Test(arguments: Backend.allCases) func readersNeverFailWhileTheRunnerWrites(_ backend: Backend) async throws {
        let seed = try Fixtures.database(backend)
        let path = seed.connection.location
        for i in 0..<50 { _ = try Registry(seed).createThing(name: "t\(i)", typeName: nil, attributes: [("site", "s\(i % 5)")], at: Self.t0) }
        _ = try Defender(seed).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil,
                                                     additionalMetrics: nil, at: Self.t0)
        _ = try Defender(seed).attachSecurityProfile(name: "P", targetARN: seed.iotARN("all/things"))
        let clock = ManualClock(Self.t0 + 1_000)
        let runner = Runner(clock: clock, open: { try FleetDatabase(path: path) })
        try runner.start()
        let stop = Mutex(false)
        let counts = Mutex((reads: 0, failures: [String]()))
        let readers = (0..<2).map { r in
            Thread {
                guard let db = try? FleetDatabase(path: path) else { counts.withLock { $0.failures.append("open") }; return }
                var i = 0
                while !stop.withLock({ $0 }) {
                    do {
                        switch i % 3 {
                        case 0: _ = try Search(db).searchIndex(indexName: nil, query: "connectivity.connected:false AND attributes.site:s\(i % 5)",
                                                               maxResults: 100, nextToken: nil, at: Self.t0)
                        case 1: _ = try Registry(db).describeThing(name: "t\((i + r) % 50)")
                        default: _ = try Defender(db).listMetricValues(thingName: "t\(i % 50)", metric: "aws:disconnect-duration", start: Self.t0,
                                                                       end: Self.t0 + 86_400_000, dimension: nil, maxResults: nil, nextToken: nil)
                        }
                        counts.withLock { $0.reads += 1 }
                    } catch {
                        counts.withLock { $0.failures.append("\(error)") }
                    }
                    i += 1
                }
            }
        }
        for t in readers { t.start() }
        var accepted = 0
        for round in 0..<40 {
            var batch: [PresenceInput] = []
            for i in 0..<50 {
                let at = Self.t0 + Int64(round) * 60_000 + Int64(i) * 100
                batch.append(PresenceInput(line: round * 100 + i, json: Self.event("t\(i)", at, round % 2 == 0 ? "connected" : "disconnected", session: "s\(round / 2)")))
            }
            accepted += await runner.submit(batch).summary.accepted
            if round % 5 == 4 { clock.advance(by: 300_000) }
        }
        _ = await runner.stop()
        stop.withLock { $0 = true }
        while readers.contains(where: { $0.isExecuting }) { try await Task.sleep(for: .milliseconds(10)) }
        let (reads, failures) = counts.withLock { ($0.reads, $0.failures) }
        #expect(accepted == 2_000)
        #expect(reads >= 1_000, "\(reads) reads")
        #expect(failures.isEmpty, "\(failures.count) failed reads: \(failures.prefix(3))")
    }

    /// A file read as the runner's source: lines numbered from 1 (blank ones counted, not
    /// given), CR LF and a last line without its newline, in one chunk or many.
    @Test(arguments: [1, 3, 64 * 1024])
    func fileLinesNumbersEveryLine(_ repeats: Int) async throws {
        let dir = testRoot.appendingPathComponent("lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("events.jsonl").path
        let block = "a\r\n\n  \nb\nc"
        let text = Array(repeating: block, count: repeats).joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var got: [(Int, String)] = []
        for try await input in FileLines(path: path, follow: false) {
            if case .json(let bytes) = input.payload { got.append((input.line, String(decoding: bytes, as: UTF8.self))) }
        }
        #expect(got.count == 3 * repeats)
        #expect(got.prefix(3).map(\.0) == [1, 4, 5])
        #expect(got.prefix(3).map(\.1) == ["a", "b", "c"])
        #expect(got.last?.0 == 5 * repeats)
    }
}
