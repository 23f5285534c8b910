// Device Defender: the alarm state machine, catch-up, idempotence, targets, alert form.
import FleetIndex
import FleetSQLite
import Testing

@Suite struct DefenderTests {
    let t0 = Fixtures.t0
    let min: Int64 = 60_000

    func setup(backend: Backend = .sqlite, _ behaviors: JSONValue, target: String = "all/things", things: [String] = ["d"]) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        for t in things { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: behaviors, alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN(target))
        return db
    }

    /// Every violation event as list-violation-events shows it, oldest first.
    static func listedEvents(_ db: FleetDatabase) throws -> [JSONValue] {
        var out: [JSONValue] = []
        var token: String? = nil
        repeat {
            let r = try Defender(db).listViolationEvents(start: 0, end: Fixtures.ms("2100-01-01T00:00:00Z"), thingName: nil, profile: nil, criteriaType: nil,
                                                         verificationState: nil, maxResults: 250, nextToken: token)
            out += r["violationEvents"]?.arrayValue ?? []
            token = r["nextToken"]?.stringValue
        } while token != nil
        return out
    }

    /// "thing type time value" of every violation event.
    func events(_ db: FleetDatabase) throws -> [String] {
        try Self.listedEvents(db).map { e in
            "\(e["thingName"]?.stringValue ?? "") \(e["violationEventType"]?.stringValue ?? "") \(e["violationEventTime"]?.stringValue ?? "") \(e["metricValue"]?["count"]?.int64Value ?? 0)"
        }
    }

    @Test(arguments: Backend.allCases) func walkthroughTimeline(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors())
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        let cycle = EvaluationCycle(db)
        #expect(try cycle.evaluate(at: t0 + 5 * min).raised == 0)     // 10:05 tick: 4 minutes
        #expect(try cycle.evaluate(at: t0 + 10 * min).raised == 1)    // 10:10 tick: 9 minutes
        try Fixtures.ingest(db, [Fixtures.event("d", t0 + 16 * min, .connected, session: "s2", version: 2)])
        #expect(try cycle.evaluate(at: t0 + 20 * min).cleared == 1)
        #expect(try events(db) == ["d in-alarm 2026-11-28T10:10:00+00:00 8", "d alarm-cleared 2026-11-28T10:20:00+00:00 0"])
        let ids = Set(try Self.listedEvents(db).compactMap { $0["violationId"]?.stringValue })
        #expect(ids.count == 1)
    }

    @Test(arguments: 1...10)
    func alarmAndClearStreaks(_ n: Int) throws {
        let db = try setup(Fixtures.behaviors("less-than", 5, alarm: n, clear: n))
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        let cycle = EvaluationCycle(db)
        // Violating from the 10:10 tick on; in alarm after n violating datapoints.
        _ = try cycle.evaluate(at: Fixtures.ms("2026-11-28T10:05:00Z"))
        let alarmTick = Fixtures.ms("2026-11-28T10:05:00Z") + Int64(n) * 300_000
        _ = try cycle.evaluate(at: alarmTick - 1)
        #expect(try events(db).isEmpty)
        _ = try cycle.evaluate(at: alarmTick)
        #expect(try events(db).count == 1)
        try Fixtures.ingest(db, [Fixtures.event("d", alarmTick + 1000, .connected, session: "s2", version: 2)])
        let clearTick = alarmTick + Int64(n) * 300_000
        _ = try cycle.evaluate(at: clearTick - 1)
        #expect(try events(db).count == 1)
        _ = try cycle.evaluate(at: clearTick)
        #expect(try events(db).last?.contains("alarm-cleared") == true)
    }

    @Test(arguments: Backend.allCases) func reAlarmGetsANewViolationId(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors())
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected),
                                 Fixtures.event("d", t0 + 16 * min, .connected, session: "s2", version: 2),
                                 Fixtures.event("d", t0 + 21 * min, .disconnected, session: "s2", version: 2)])
        _ = try EvaluationCycle(db).evaluate(at: t0, since: nil)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 40 * min)
        let rows = try Self.listedEvents(db).map { ($0["violationEventType"]?.stringValue ?? "", $0["violationId"]?.stringValue ?? "") }
        #expect(rows.map(\.0) == ["in-alarm", "alarm-cleared", "in-alarm"])
        #expect(rows[0].1 == rows[1].1 && rows[2].1 != rows[0].1)
    }

    @Test(arguments: Backend.allCases) func catchUpEqualsStepByStepAndIsIdempotent(_ backend: Backend) throws {
        let history: [LifecycleEvent] = (0..<12).flatMap { i -> [LifecycleEvent] in
            let base = t0 + Int64(i) * 17 * min
            return [Fixtures.event("d", base, .connected, session: "s\(i)", version: Int64(i + 1)),
                    Fixtures.event("d", base + Int64(i % 4 + 1) * 3 * min, .disconnected, session: "s\(i)", version: Int64(i + 1))]
        }
        let a = try setup(backend: backend, Fixtures.behaviors("less-than", 5, alarm: 2, clear: 2))
        let b = try setup(backend: backend, Fixtures.behaviors("less-than", 5, alarm: 2, clear: 2))
        try Fixtures.ingest(a, history)
        try Fixtures.ingest(b, history)
        _ = try EvaluationCycle(a).evaluate(at: t0)
        _ = try EvaluationCycle(b).evaluate(at: t0)
        var at = t0
        while at < t0 + 240 * min { at += 60_000; _ = try EvaluationCycle(a).evaluate(at: at) }
        _ = try EvaluationCycle(b).evaluate(at: at)
        #expect(try events(a) == events(b))
        #expect(try !events(a).isEmpty)
        let again = try EvaluationCycle(b).evaluate(at: at)
        #expect(again.ticks.isEmpty && again.raised == 0)
        #expect(try events(a) == events(b))
    }

    /// Violations raised and cleared inside one catch-up (on PostgreSQL written together at
    /// its end) are stored as step-by-step evaluation stores them: the same events, each
    /// violation's last time its clear, and rows the events' ids lead back to.
    @Test(arguments: Backend.allCases) func violationsRaisedAndClearedInOneCatchUp(_ backend: Backend) throws {
        // Half an hour each: 12 minutes connected, 18 disconnected (raised, then cleared).
        let history: [LifecycleEvent] = (0..<8).flatMap { i -> [LifecycleEvent] in
            let base = t0 + Int64(i) * 30 * min
            return [Fixtures.event("d", base, .connected, session: "s\(i)", version: Int64(i + 1)),
                    Fixtures.event("d", base + 12 * min, .disconnected, session: "s\(i)", version: Int64(i + 1))]
        }
        let stepped = try setup(backend: backend, Fixtures.behaviors("less-than", 5, alarm: 2, clear: 2))
        let caught = try setup(backend: backend, Fixtures.behaviors("less-than", 5, alarm: 2, clear: 2))
        for db in [stepped, caught] {
            try Fixtures.ingest(db, history)
            _ = try EvaluationCycle(db).evaluate(at: t0)
        }
        var at = t0
        while at < t0 + 240 * min { at += 60_000; _ = try EvaluationCycle(stepped).evaluate(at: at) }
        let report = try EvaluationCycle(caught).evaluate(at: at)
        #expect(report.raised >= 5 && report.cleared >= 5)
        #expect(try events(stepped) == events(caught))
        let lastTimes = { (db: FleetDatabase) in try db.connection.query("SELECT last_time FROM violation ORDER BY last_time") { $0.int(0) } }
        #expect(try lastTimes(caught) == lastTimes(stepped))
        #expect(try lastTimes(caught).count == report.raised)
        // Every event's violation row is there (PostgreSQL's events join their violations).
        #expect(try Self.listedEvents(caught).count == report.raised + report.cleared)
    }

    @Test(arguments: Backend.allCases) func neverConnectedThingsHaveNoDatapoints(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors())
        _ = try EvaluationCycle(db).evaluate(at: t0)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 60 * min)
        let v = try Defender(db).listMetricValues(thingName: "d", metric: "aws:disconnect-duration", start: t0 - 3_600_000, end: t0 + 3_600_000,
                                                  dimension: nil, maxResults: nil, nextToken: nil)
        #expect(v["metricDatumList"] == .array([]))
        #expect(try events(db).isEmpty)
    }

    @Test(arguments: Backend.allCases) func unregisteredClientsAndTargets(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors(), target: "all/registered-things")
        try Fixtures.ingest(db, [Fixtures.event("ghost", t0, .connected), Fixtures.event("ghost", t0 + min, .disconnected),
                                 Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * min)
        #expect(try events(db).map { $0.split(separator: " ")[0] } == ["d"])
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/unregistered-things"))
        _ = try EvaluationCycle(db).evaluate(at: t0 + 35 * min)
        #expect(try events(db).map { String($0.split(separator: " ")[0]) }.sorted() == ["d", "ghost"])
        #expect(try Fixtures.search(db, "deviceDefender.P.*.inViolation:true") == ["d"])  // unregistered clients are not searchable
    }

    /// Things "in" (a member of "sub", a subgroup of "top") and "out" (in no group), profile P
    /// attached to each of `targets` (resources of the database's ARNs), both disconnected for
    /// 29 minutes and evaluated at 30.
    func inAndOut(_ backend: Backend, targets: [String]) throws -> (FleetDatabase, Registry) {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingGroup(name: "top", parent: nil, properties: nil, at: 0)
        _ = try r.createThingGroup(name: "sub", parent: "top", properties: nil, at: 0)
        for t in ["in", "out"] { _ = try r.createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        _ = try r.addThingToThingGroup(group: "sub", thingName: "in", overrideDynamicGroups: false, at: 0)
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        for t in targets { _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN(t)) }
        try Fixtures.ingest(db, ["in", "out"].flatMap { [Fixtures.event($0, t0, .connected), Fixtures.event($0, t0 + min, .disconnected)] })
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * min)
        return (db, r)
    }

    @Test(arguments: Backend.allCases) func groupTargetsIncludeSubgroupsAndLeavingInvalidates(_ backend: Backend) throws {
        let (db, r) = try inAndOut(backend, targets: ["thinggroup/top"])
        #expect(try events(db).map { String($0.split(separator: " ")[0]) } == ["in"])
        #expect(try Fixtures.search(db, "deviceDefender.violationCount:1") == ["in"])
        #expect(try Fixtures.search(db, "deviceDefender.violationCount:*") == ["in"])
        func points(_ t: String) throws -> Int {
            try Defender(db).listMetricValues(thingName: t, metric: "aws:disconnect-duration", start: t0, end: t0 + 30 * min,
                                              dimension: nil, maxResults: nil, nextToken: nil)["metricDatumList"]?.arrayValue?.count ?? -1
        }
        #expect(try points("in") == 1 && points("out") == 0)   // only the subgroup's member is monitored
        _ = try r.removeThingFromThingGroup(group: "sub", thingName: "in")
        _ = try EvaluationCycle(db).evaluate(at: t0 + 35 * min)
        #expect(try events(db).last?.hasPrefix("in alarm-invalidated") == true)
        // The reason is kept with the violation (on PostgreSQL written with the tick's other changes).
        #expect(try Self.listedEvents(db).last?["verificationStateDescription"]?.stringValue == "the thing is no longer a target of the profile")
    }

    /// The profile targets a search page reads (one read of the targets, the membership join
    /// only for group targets, violations only for targeted things): which documents carry
    /// `deviceDefender`, with "in" a member of a subgroup of "top" and "out" in no group.
    static let targetCases: [(targets: [String], shown: [String])] = [
        ([], []),
        (["all/unregistered-things"], []),
        (["thinggroup/top"], ["in"]),
        (["thinggroup/top", "all/unregistered-things"], ["in"]),
        (["all/things"], ["in", "out"]),
        (["all/registered-things", "thinggroup/top"], ["in", "out"]),
    ]

    @Test(arguments: Backend.allCases, targetCases.indices) func documentsShowDefenderForTargetedThingsOnly(_ backend: Backend, _ i: Int) throws {
        let (targets, shown) = Self.targetCases[i]
        let (db, _) = try inAndOut(backend, targets: targets)
        let things = try Search(db).searchIndex(indexName: nil, query: "*", maxResults: nil, nextToken: nil, at: t0 + 30 * min)["things"]?.arrayValue ?? []
        #expect(things.compactMap { $0["thingName"]?.stringValue } == ["in", "out"])
        let withDefender = things.filter { $0["deviceDefender"] != nil }.compactMap { $0["thingName"]?.stringValue }
        #expect(withDefender == shown)
        // A shown thing carries its violation (every target here sees both things disconnected for 29 minutes).
        for d in things where d["deviceDefender"] != nil {
            let text = d["deviceDefender"]?.stringValue ?? ""
            #expect(try JSONValue.parse(text)["violationCount"]?.int64Value == 1)
            #expect(text.contains("\"P\"") && text.contains("\"inViolation\":true"))
        }
        // The Evaluator's states agree (what dynamic groups and the differential tests read).
        let states = try Search(db).thingStates(inTable: nil, ids: try Search(db).allIDs(try Search(db).compile("*", at: 0)))
        #expect(states.values.filter { $0.violationCount != nil }.map(\.name).sorted() == shown)
    }

    @Test(arguments: Backend.allCases) func invalidationByProfileChanges(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors())
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        _ = try EvaluationCycle(db).evaluate(at: t0 + 30 * min)
        _ = try Defender(db).updateSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors("less-than", 10), alertTargets: nil,
                                                   additionalMetrics: nil, deleteBehaviors: false, deleteAlertTargets: false,
                                                   deleteAdditionalMetrics: false, expectedVersion: nil, at: t0 + 31 * min)
        #expect(try events(db).last?.hasPrefix("d alarm-invalidated") == true)
        #expect(try Defender(db).listActiveViolations(thingName: nil, profile: nil, criteriaType: nil, verificationState: nil, maxResults: nil,
                                                      nextToken: nil)["activeViolations"] == .array([]))
    }

    @Test(arguments: Backend.allCases) func noDataForTwoDaysInvalidates(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors(metric: "aws:num-disconnects").arrayValue.map { _ in
            Fixtures.behaviors("less-than", 1, metric: "aws:num-disconnects") }!)
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        _ = try EvaluationCycle(db).evaluate(at: t0 + 5 * min)
        #expect(try events(db).count == 1)
        // counts stay 0 (conforming) afterwards: cleared, not invalidated
        _ = try EvaluationCycle(db).evaluate(at: t0 + 10 * min)
        #expect(try events(db).last?.contains("alarm-cleared") == true)
    }

    @Test(arguments: Backend.allCases) func alertFormIsTheNegatedAWSCriteria(_ backend: Backend) throws {
        let aws = try setup(backend: backend, Fixtures.behaviors("less-than", 5, name: "Disconnected_5m"))
        let form = try Fixtures.database(backend)
        _ = try Registry(form).createThing(name: "d", typeName: nil, attributes: nil, at: 0)
        _ = try Defender(form).createSecurityProfile(name: "P", description: nil, behaviors: try Behavior.alertWhen("Disconnected_5m: aws:disconnect-duration >= 5"),
                                                     alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(form).attachSecurityProfile(name: "P", targetARN: form.iotARN("all/things"))
        let history = [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected),
                       Fixtures.event("d", t0 + 30 * min, .connected, session: "s2", version: 2)]
        for db in [aws, form] {
            try Fixtures.ingest(db, history)
            _ = try EvaluationCycle(db).evaluate(at: t0)
            _ = try EvaluationCycle(db).evaluate(at: t0 + 60 * min)
        }
        #expect(try events(aws) == events(form))
        #expect(try events(aws).count == 2)
        let crit = try Defender(form).describeSecurityProfile(name: "P")["behaviors"]?.arrayValue?.first?["criteria"]
        #expect(crit?["comparisonOperator"]?.stringValue == "less-than")
    }

    @Test(arguments: Backend.allCases) func validationReportsEveryProblem(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let bad = try JSONValue.parse(#"[{"name":"a b","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"greater-than","value":{"count":5},"consecutiveDatapointsToAlarm":11}},{"name":"x","metric":"aws:nope","criteria":{"comparisonOperator":"less-than","value":{"count":1}}}]"#)
        let r = Defender(db).validateBehaviors(bad)
        #expect(r["valid"] == .bool(false))
        #expect((r["validationErrors"]?.arrayValue?.count ?? 0) == 4)
    }

    @Test(arguments: Backend.allCases) func metricValuesAreDerivedFromHistory(_ backend: Backend) throws {
        let db = try setup(backend: backend, Fixtures.behaviors())
        try Fixtures.ingest(db, [Fixtures.event("d", t0, .connected), Fixtures.event("d", t0 + min, .disconnected)])
        _ = try EvaluationCycle(db).evaluate(at: t0 + 5 * min)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 15 * min)
        let v = try Defender(db).listMetricValues(thingName: "d", metric: "aws:disconnect-duration", start: t0, end: t0 + 16 * min,
                                                  dimension: nil, maxResults: 2, nextToken: nil)
        #expect(v["metricDatumList"]?.arrayValue?.map { $0["value"]?["count"]?.int64Value } == [3, 8])
        let next = try Defender(db).listMetricValues(thingName: "d", metric: "aws:disconnect-duration", start: t0, end: t0 + 16 * min,
                                                     dimension: nil, maxResults: 2, nextToken: v["nextToken"]?.stringValue)
        #expect(next["metricDatumList"]?.arrayValue?.map { $0["value"]?["count"]?.int64Value } == [13])
    }
}
