// Datapoints as evaluated (metric runs), compact violation events, retention, the migration of
// older databases, and evaluation over stored values out of range.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

@Suite struct DatapointTests {
    static let t0 = Fixtures.t0            // 2026-11-28T10:00:20Z
    static let min: Int64 = 60_000
    static let tick: Int64 = 300_000
    /// The tick 2026-11-28T10:00:00Z.
    static let tick0 = Fixtures.ms("2026-11-28T10:00:00Z")

    static func setup(backend: Backend = .sqlite, _ behaviors: JSONValue, additional: JSONValue? = nil, things: [String] = ["d"]) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        for t in things { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: behaviors, alertTargets: nil, additionalMetrics: additional, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        return db
    }

    /// (tick, value) of every datapoint list-metric-values returns, all pages.
    static func points(_ db: FleetDatabase, _ thing: String = "d", metric: String = "aws:disconnect-duration",
                       from: Int64 = 0, to: Int64 = Fixtures.ms("2100-01-01T00:00:00Z"), page: Int = 250) throws -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        var token: String? = nil
        repeat {
            let r = try Defender(db).listMetricValues(thingName: thing, metric: metric, start: from, end: to, dimension: nil, maxResults: page, nextToken: token)
            for d in r["metricDatumList"]?.arrayValue ?? [] {
                out[Fixtures.ms(d["timestamp"]!.stringValue!)] = d["value"]?["count"]?.int64Value
            }
            token = r["nextToken"]?.stringValue
        } while token != nil
        return out
    }

    static func eventTypes(_ db: FleetDatabase) throws -> [String] {
        try DefenderTests.listedEvents(db).map { "\($0["violationEventType"]!.stringValue!) \(Timestamp.iso(Fixtures.ms($0["violationEventTime"]!.stringValue!)))" }
    }

    // MARK: late events

    struct LateCase: CustomStringConvertible, Sendable {
        var name: String
        var metric: String
        var threshold: Int
        var before: [(Int64, LifecycleEvent.Kind, String, Int64)]   // (offset from t0, kind, session, version)
        var late: [(Int64, LifecycleEvent.Kind, String, Int64)]
        /// Datapoints of the 10:05 and 10:10 ticks (evaluated before the late events), then of 10:15.
        var seen: [Int64]
        var next: Int64
        var events: [String]
        var description: String { name }
    }

    static let lateCases: [LateCase] = [
        LateCase(name: "late disconnect", metric: "aws:disconnect-duration", threshold: 5,
                 before: [(0, .connected, "s1", 1)], late: [(1 * min, .disconnected, "s1", 1)],
                 seen: [0, 0], next: 13, events: ["in-alarm 2026-11-28T10:15:00+00:00"]),
        LateCase(name: "late reconnect", metric: "aws:disconnect-duration", threshold: 5,
                 before: [(0, .connected, "s1", 1), (1 * min, .disconnected, "s1", 1)], late: [(7 * min, .connected, "s2", 2)],
                 seen: [3, 8], next: 0, events: ["in-alarm 2026-11-28T10:10:00+00:00", "alarm-cleared 2026-11-28T10:15:00+00:00"]),
        LateCase(name: "late disconnect in an evaluated period", metric: "aws:num-disconnects", threshold: 1,
                 before: [(0, .connected, "s1", 1)], late: [(6 * min, .disconnected, "s1", 1)],
                 seen: [0, 0], next: 0, events: []),
    ]

    /// A datapoint, once its tick is evaluated, is what that evaluation saw: a late event
    /// changes neither it nor the violations of that tick; it counts from the next tick on.
    @Test(arguments: lateCases)
    func lateEventsLeaveEvaluatedDatapointsAlone(_ k: LateCase) throws {
        let db = try Self.setup(Fixtures.behaviors("less-than", k.threshold, metric: k.metric))
        let ev = { (e: (Int64, LifecycleEvent.Kind, String, Int64)) in Fixtures.event("d", Self.t0 + e.0, e.1, session: e.2, version: e.3) }
        try Fixtures.ingest(db, k.before.map(ev))
        let cycle = EvaluationCycle(db)
        _ = try cycle.evaluate(at: Self.tick0 + Self.tick)
        _ = try cycle.evaluate(at: Self.tick0 + 2 * Self.tick)
        let t1 = Self.tick0 + Self.tick, t2 = t1 + Self.tick, t3 = t2 + Self.tick
        #expect(try Self.points(db, metric: k.metric) == [t1: k.seen[0], t2: k.seen[1]])
        try Fixtures.ingest(db, k.late.map(ev))
        #expect(try Self.points(db, metric: k.metric) == [t1: k.seen[0], t2: k.seen[1]], "a late event rewrote an evaluated datapoint")
        _ = try cycle.evaluate(at: t3)
        #expect(try Self.points(db, metric: k.metric) == [t1: k.seen[0], t2: k.seen[1], t3: k.next])
        #expect(try Self.eventTypes(db) == k.events)
    }

    // MARK: compaction and cadence

    /// Outages of one day: (start minute after t0, minutes).
    static let outages: [(Int64, Int64)] = [(10, 30), (100, 3), (200, 120), (500, 7), (900, 45), (1200, 200)]

    static func outageEvents() -> [LifecycleEvent] {
        var out = [Fixtures.event("d", t0, .connected, session: "s0", version: 1)]
        for (i, (start, length)) in outages.enumerated() {
            out.append(Fixtures.event("d", t0 + start * min, .disconnected, session: "s\(i)", version: 1))
            out.append(Fixtures.event("d", t0 + (start + length) * min, .connected, session: "s\(i + 1)", version: 1))
        }
        return out
    }

    /// The disconnect duration at `tick` by semantics.md, computed here from the outage table.
    static func expectedDuration(at tick: Int64) -> Int64 {
        for (start, length) in outages where tick >= t0 + start * min && tick < t0 + (start + length) * min {
            return (tick - (t0 + start * min)) / min
        }
        return 0
    }

    /// Every tick, every hour, or one catch-up: the same datapoints, one run per outage that a
    /// tick saw, plus the first (resting) run.
    @Test(arguments: [5, 60, 24 * 60])
    func aRunPerOutageWhateverTheCadence(_ everyMinutes: Int64) throws {
        let db = try Self.setup(Fixtures.behaviors())
        try Fixtures.ingest(db, Self.outageEvents())
        let cycle = EvaluationCycle(db)
        _ = try cycle.evaluate(at: Self.tick0)
        let end = Self.tick0 + 24 * 60 * Self.min
        var at = Self.tick0
        while at < end {
            at = Swift.min(at + everyMinutes * Self.min, end)
            _ = try cycle.evaluate(at: at)
        }
        let ticks = stride(from: Self.tick0 + Self.tick, through: end, by: Int(Self.tick))   // none at 10:00: before the first event
        let want = Dictionary(uniqueKeysWithValues: ticks.map { ($0, Self.expectedDuration(at: $0)) })
        let got = try Self.points(db)
        let differ = Set(got.keys).union(want.keys).sorted().filter { got[$0] != want[$0] }
        #expect(differ.isEmpty, "\(differ.prefix(5).map { "\(Timestamp.iso($0)) got \(got[$0].map(String.init) ?? "none") want \(want[$0].map(String.init) ?? "none")" })")
        let seen = Self.outages.filter { o in ticks.contains { Self.expectedDuration(at: $0) > 0 && $0 > Self.t0 + o.0 * Self.min && $0 < Self.t0 + (o.0 + o.1) * Self.min } }
        let rows = try db.connection.scalar("SELECT count(*) FROM metric_run")?.int
        #expect(rows == Int64(1 + seen.count))
        #expect(seen.count == 5)   // the 3-minute outage falls between ticks
    }

    /// Retained metrics (additionalMetricsToRetainV2) get datapoints; a metric no attached
    /// profile uses gets none; a thing has none before its first event.
    @Test(arguments: Backend.allCases) func datapointsOnlyWhileMonitored(_ backend: Backend) throws {
        let db = try Self.setup(backend: backend, Fixtures.behaviors(), additional: .array([jsonObject([("metric", .string("aws:num-disconnects"))])]), things: ["d", "late"])
        try Fixtures.ingest(db, [Fixtures.event("d", Self.t0, .connected), Fixtures.event("d", Self.t0 + 6 * Self.min, .disconnected)])
        let cycle = EvaluationCycle(db)
        _ = try cycle.evaluate(at: Self.tick0 + Self.tick)
        _ = try cycle.evaluate(at: Self.tick0 + 3 * Self.tick)
        let t1 = Self.tick0 + Self.tick
        #expect(try Self.points(db, metric: "aws:num-disconnects") == [t1: 0, t1 + Self.tick: 1, t1 + 2 * Self.tick: 0])
        #expect(try Self.points(db, metric: "aws:num-connection-attempts") == [:])
        // "late" first connects after the 10:15 tick was evaluated, with an old timestamp.
        try Fixtures.ingest(db, [Fixtures.event("late", Self.t0, .connected)])
        #expect(try Self.points(db, "late") == [:])
        _ = try cycle.evaluate(at: Self.tick0 + 4 * Self.tick)
        #expect(try Self.points(db, "late") == [Self.tick0 + 4 * Self.tick: 0])
        // Detached: no datapoints from the next tick on; the earlier ones stay.
        _ = try Defender(db).detachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"), at: Self.tick0 + 4 * Self.tick + 1)
        _ = try cycle.evaluate(at: Self.tick0 + 6 * Self.tick)
        #expect(try Self.points(db).keys.max() == Self.tick0 + 4 * Self.tick)
    }

    // MARK: retention

    @Test(arguments: Backend.allCases) func retentionPrunesRunsAndViolations(_ backend: Backend) throws {
        let db = try Self.setup(backend: backend, Fixtures.behaviors())
        let day: Int64 = 86_400_000, half = day / 2
        // Outages on day 0 at 10:01 and 22:01 (each raised and cleared), one on day 14 (still on).
        try Fixtures.ingest(db, [Fixtures.event("d", Self.t0, .connected, session: "a"), Fixtures.event("d", Self.t0 + Self.min, .disconnected, session: "a"),
                                 Fixtures.event("d", Self.t0 + 30 * Self.min, .connected, session: "b"),
                                 Fixtures.event("d", Self.t0 + half + Self.min, .disconnected, session: "b"),
                                 Fixtures.event("d", Self.t0 + half + 30 * Self.min, .connected, session: "c"),
                                 Fixtures.event("d", Self.t0 + 14 * day + 2 * Self.min, .disconnected, session: "c")])
        let cycle = EvaluationCycle(db)
        _ = try cycle.evaluate(at: Self.tick0)
        var at = Self.tick0
        at += day
        _ = try cycle.evaluate(at: at)
        #expect(try Self.eventTypes(db).count == 4)
        #expect(try db.connection.scalar("SELECT count(*) FROM metric_run")?.int == 2)
        for _ in 1..<15 { at += day; _ = try cycle.evaluate(at: at) }   // daily catch-ups up to day 15
        let cutoff = at - 14 * day
        // Day 0's events and violations are gone; day 14's stays.
        #expect(try Self.eventTypes(db) == ["in-alarm 2026-12-12T10:10:00+00:00"])
        #expect(try db.connection.scalar("SELECT count(*) FROM violation")?.int == 1)
        // The 10:05 run is gone; the 22:05 run stays: its rest value (0) covers the ticks up to day 14.
        let runs = try db.connection.query("SELECT first_tick, last_tick FROM metric_run ORDER BY first_tick") { ($0.int(0), $0.optionalInt(1)) }
        #expect(runs.map(\.0) == [Self.tick0 + half + Self.tick, Self.tick0 + 14 * day + Self.tick])
        #expect(runs.map(\.1) == [Self.tick0 + half + 6 * Self.tick, nil])
        let p = try Self.points(db)
        #expect(p.keys.min() == cutoff && p.count == 14 * 288 + 1)
        #expect(p[cutoff] == 0 && p[Self.tick0 + 14 * day] == 0 && p[Self.tick0 + 14 * day + Self.tick] == 2 && p[at] == 1437)
    }

    // MARK: bytes

    /// Violation events reference their violation, client and behavior: a few dozen bytes
    /// each, whatever the behavior's JSON weighs.
    @Test(arguments: Backend.allCases) func violationEventsAreSmall(_ backend: Backend) throws {
        let things = (0..<400).map { "thing-\($0)" }
        let db = try Self.setup(backend: backend, Fixtures.behaviors(name: String(repeating: "Disconnected_for_long_", count: 5)), things: things)
        try Fixtures.ingest(db, things.flatMap { [Fixtures.event($0, Self.t0, .connected), Fixtures.event($0, Self.t0 + Self.min, .disconnected),
                                                  Fixtures.event($0, Self.t0 + 16 * Self.min, .connected, session: "s2", version: 2)] })
        _ = try EvaluationCycle(db).evaluate(at: Self.tick0)
        _ = try EvaluationCycle(db).evaluate(at: Self.tick0 + 4 * Self.tick)
        let events = try DefenderTests.listedEvents(db)
        #expect(events.count == 800)
        #expect(Set(events.compactMap { $0["violationId"]?.stringValue }).count == 400)
        let rows = try db.connection.scalar("SELECT count(*) FROM violation_event")?.int ?? 0
        #expect(rows == 800)
        #expect(try db.connection.scalar("SELECT count(*) FROM violation_behavior")?.int == 1)
    }

    // MARK: migration

    /// A database written before migration 0008: its violation events (verification states,
    /// invalidation reasons, random ids) read back unchanged, an active alarm clears under its
    /// old id, and the ticks evaluated before are still listed.
    @Test(arguments: Backend.allCases) func migrationMovesOldRows(_ backend: Backend) throws {
        let dir = testRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("old.sqlite").path
        do {
            let conn = try Connection(path: path)
            let all = try FleetDatabase.migrations().migrations
            try Migrator(all.filter { $0.version <= 6 }).migrate(conn)
            let b = #"{"name":"B","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"less-than","value":{"count":5}}}"#
            try conn.execute(script: """
                INSERT INTO meta(key, value) VALUES ('region', 'us-east-1'), ('account', '123456789012');
                INSERT INTO client(id, client_id, thing, connected, ts, event_type, session, version, max_ts)
                    VALUES (1, 'd', NULL, 0, \(Self.t0 + Self.min), 1, 's1', 1, \(Self.t0 + Self.min)), (2, 'ghost', NULL, 1, \(Self.t0), 0, 'g', 1, \(Self.t0));
                INSERT INTO presence_event(client, ts, type, session, version) VALUES (1, \(Self.t0), 0, 's1', 1), (1, \(Self.t0 + Self.min), 1, 's1', 1),
                    (2, \(Self.t0), 0, 'g', 1);
                INSERT INTO security_profile(id, name, behaviors, created_at, modified_at) VALUES (1, 'P', '[\(b)]', 0, 0);
                INSERT INTO profile_target(profile, arn, kind) VALUES (1, 'arn:aws:iot:us-east-1:123456789012:all/things', 'all');
                INSERT INTO evaluated_tick(tick, evaluated_at) VALUES (\(Self.tick0 + Self.tick), 0), (\(Self.tick0 + 2 * Self.tick), 0);
                INSERT INTO alarm(client, profile, behavior, thing, in_alarm, streak, violation_id, metric, start_time, last_value, last_time, last_datapoint)
                    VALUES (1, 'P', 'B', NULL, 1, 0, '0123456789abcdef0123456789abcdef', 'aws:disconnect-duration', \(Self.tick0 + 2 * Self.tick), 8,
                            \(Self.tick0 + 2 * Self.tick), \(Self.tick0 + 2 * Self.tick));
                INSERT INTO violation_event(violation_id, client_id, profile, behavior, behavior_json, metric_value, event_type, time, verification_state, verification_description) VALUES
                    ('ffffffffffffffffffffffffffffffff', 'ghost', 'P', 'B', '\(b)', 9, 'in-alarm', \(Self.tick0 - Self.tick), 'TRUE_POSITIVE', 'seen'),
                    ('ffffffffffffffffffffffffffffffff', 'ghost', 'P', 'B', '\(b)', 9, 'alarm-invalidated', \(Self.tick0), 'TRUE_POSITIVE', 'seen'),
                    ('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'ghost', 'P', 'B', '\(b)', 4, 'in-alarm', \(Self.tick0 + Self.tick), NULL, NULL),
                    ('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'ghost', 'P', 'B', '\(b)', 4, 'alarm-invalidated', \(Self.tick0 + Self.tick + 1), 'UNKNOWN', 'the security profile was detached'),
                    ('0123456789abcdef0123456789abcdef', 'd', 'P', 'B', '\(b)', 8, 'in-alarm', \(Self.tick0 + 2 * Self.tick), NULL, NULL);
                """)
        }
        let db = try FleetDatabase(path: path)
        let before = try DefenderTests.listedEvents(db)
        #expect(before.map { "\($0["violationId"]!.stringValue!.prefix(2)) \($0["thingName"]!.stringValue!) \($0["violationEventType"]!.stringValue!) \($0["metricValue"]?["count"]?.int64Value ?? -1) \($0["verificationState"]?.stringValue ?? "-") \($0["verificationStateDescription"]?.stringValue ?? "-")" } == [
            "ff ghost in-alarm 9 TRUE_POSITIVE seen",
            "ff ghost alarm-invalidated 9 TRUE_POSITIVE seen",
            "ee ghost in-alarm 4 - -",
            "ee ghost alarm-invalidated 4 UNKNOWN the security profile was detached",
            "01 d in-alarm 8 - -",
        ])
        #expect(before.allSatisfy { $0["behavior"]?["name"]?.stringValue == "B" })
        _ = try Defender(db).putVerificationState(violationId: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", state: "BENIGN_POSITIVE", description: "ok")
        #expect(try DefenderTests.listedEvents(db)[2...3].allSatisfy { $0["verificationState"]?.stringValue == "BENIGN_POSITIVE" })
        // The ticks evaluated before the migration: derived from the history, as before.
        #expect(try Self.points(db) == [Self.tick0 + Self.tick: 3, Self.tick0 + 2 * Self.tick: 8])
        // The thing reconnects; the next tick clears the old alarm under its old id and is stored.
        try Fixtures.ingest(db, [Fixtures.event("d", Self.t0 + 12 * Self.min, .connected, session: "s2", version: 2)])
        _ = try EvaluationCycle(db).evaluate(at: Self.tick0 + 3 * Self.tick)
        let last = try DefenderTests.listedEvents(db).last!
        #expect(last["violationEventType"]?.stringValue == "alarm-cleared" && last["violationId"]?.stringValue == "0123456789abcdef0123456789abcdef")
        #expect(try Self.points(db) == [Self.tick0 + Self.tick: 3, Self.tick0 + 2 * Self.tick: 8, Self.tick0 + 3 * Self.tick: 0])
        #expect(try db.connection.scalar("SELECT count(*) FROM metric_run WHERE client = 1")?.int == 1)
    }

    // MARK: values out of range

    static let outOfRange: [(String, String)] = [
        ("event at Int64.min", "INSERT INTO presence_event(client, ts, type, session, version) VALUES (1, -9223372036854775808, 1, 'x', 1)"),
        ("event at Int64.max", "INSERT INTO presence_event(client, ts, type, session, version) VALUES (1, 9223372036854775807, 1, 'x', 1)"),
        ("client state at Int64.min", "UPDATE client SET ts = -9223372036854775808, connected = 0, event_type = 1, max_ts = 9223372036854775807"),
        ("evaluated tick at Int64.max", "INSERT INTO evaluated_tick(tick, evaluated_at) VALUES (9223372036854775807, 0)"),
        ("evaluated tick at Int64.min", "INSERT INTO evaluated_tick(tick, evaluated_at) VALUES (-9223372036854775808, 0)"),
        ("alarm streak and times", """
            INSERT INTO alarm(client, profile, behavior, thing, in_alarm, streak, violation_id, metric, start_time, last_value, last_time, last_datapoint)
            VALUES (1, 'P', 'B', 1, 1, 9223372036854775807, 'abababababababababababababababab', 'aws:disconnect-duration',
                    -9223372036854775808, 1e308, 9223372036854775807, -9223372036854775808)
            """),
        ("metric run", "INSERT INTO metric_run(client, metric, first_tick, last_tick, start_value, step) VALUES (1, 1, -9223372036854775808, NULL, 9223372036854775807, 9223372036854775807)"),
    ]

    /// Stored values out of range (planted with raw SQL) never trap an evaluation; the next
    /// evaluations still run their ticks.
    @Test(arguments: [-1] + Array(0..<outOfRange.count))
    func evaluationSurvivesStoredValuesOutOfRange(_ which: Int) throws {
        let db = try Self.setup(Fixtures.behaviors())
        try Fixtures.ingest(db, [Fixtures.event("d", Self.t0, .connected), Fixtures.event("d", Self.t0 + Self.min, .disconnected)])
        let cycle = EvaluationCycle(db)
        _ = try cycle.evaluate(at: Self.tick0)
        for (_, sql) in which < 0 ? Self.outOfRange : [Self.outOfRange[which]] { try db.connection.execute(sql) }
        let r = try cycle.evaluate(at: Self.tick0 + 2 * Self.tick)
        #expect(r.ticks == [Self.tick0 + Self.tick, Self.tick0 + 2 * Self.tick])
        let r2 = try cycle.evaluate(at: Self.tick0 + 3 * Self.tick)
        #expect(r2.ticks == [Self.tick0 + 3 * Self.tick])
        _ = try Defender(db).listMetricValues(thingName: "d", metric: "aws:disconnect-duration", start: 0, end: Self.tick0 + 3 * Self.tick,
                                              dimension: nil, maxResults: nil, nextToken: nil)
        _ = try Defender(db).listActiveViolations(thingName: nil, profile: nil, criteriaType: nil, verificationState: nil, maxResults: nil, nextToken: nil)
    }

    /// `evaluate(at:)` takes times in 1970–9999 only.
    @Test(arguments: [Int64.min, -1, 253_402_300_800_000, Int64.max])
    func evaluateRejectsTimesOutOfRange(_ at: Int64) throws {
        let db = try Self.setup(Fixtures.behaviors())
        do {
            _ = try EvaluationCycle(db).evaluate(at: at)
            Issue.record("evaluate(at: \(at)) was accepted")
        } catch let e as FleetError {
            #expect(e.code == .invalidRequest && e.member == "at")
        }
        #expect(try EvaluationCycle(db).evaluate(at: Self.tick0).ticks == [Self.tick0])
    }

    /// Evaluating far ahead says so when a later `at` finds nothing to do.
    @Test(arguments: Backend.allCases) func evaluationAheadIsReported(_ backend: Backend) throws {
        let db = try Self.setup(backend: backend, Fixtures.behaviors())
        let far = Fixtures.ms("9999-12-31T23:55:00Z")
        _ = try EvaluationCycle(db).evaluate(at: far)
        let r = try EvaluationCycle(db).evaluate(at: Self.tick0)
        #expect(r.ticks.isEmpty && r.evaluatedThrough == far)
        #expect(r.json["evaluatedThrough"]?.stringValue == "9999-12-31T23:55:00+00:00")
    }
}

extension DatapointTests {
    /// A group target: a thing that joins the group has datapoints from the next tick on, one
    /// that leaves has none from the next tick on; neither needs an event of its own.
    @Test(arguments: Backend.allCases) func groupTargetMembershipStartsAndEndsDatapoints(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingGroup(name: "g", parent: nil, properties: nil, at: 0)
        for t in ["stays", "joins", "leaves"] { _ = try r.createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        for t in ["stays", "leaves"] { _ = try r.addThingToThingGroup(group: "g", thingName: t, overrideDynamicGroups: false, at: 0) }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.groupARN("g"))
        try Fixtures.ingest(db, ["stays", "joins", "leaves"].map { Fixtures.event($0, Self.t0 - 3_600_000, .connected) })
        let cycle = EvaluationCycle(db)
        let t1 = Self.tick0 + Self.tick
        _ = try cycle.evaluate(at: t1)
        _ = try cycle.evaluate(at: t1 + Self.tick)
        _ = try r.addThingToThingGroup(group: "g", thingName: "joins", overrideDynamicGroups: false, at: t1 + Self.tick + 1)
        _ = try r.removeThingFromThingGroup(group: "g", thingName: "leaves")
        _ = try cycle.evaluate(at: t1 + 3 * Self.tick)
        #expect(try Self.points(db, "stays").keys.sorted() == [t1, t1 + Self.tick, t1 + 2 * Self.tick, t1 + 3 * Self.tick])
        #expect(try Self.points(db, "joins").keys.sorted() == [t1 + 2 * Self.tick, t1 + 3 * Self.tick])
        #expect(try Self.points(db, "leaves").keys.sorted() == [t1, t1 + Self.tick])
    }
}
