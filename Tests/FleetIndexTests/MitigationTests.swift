// Mitigation: actions run on violations chosen by ids, by profile and behavior, by time range.
import FleetIndex
import FleetSQLite
import Testing

@Suite struct MitigationTests {
    let t0 = Fixtures.t0

    func setup(backend: Backend = .sqlite) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        _ = try Registry(db).createThingGroup(name: "Quarantine", parent: nil, properties: nil, at: 0)
        for t in ["a", "b"] { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(name: "Lost"), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        try Fixtures.ingest(db, [Fixtures.event("a", t0, .connected), Fixtures.event("a", t0 + 60_000, .disconnected),
                                 Fixtures.event("b", t0, .connected), Fixtures.event("b", t0 + 20 * 60_000, .disconnected),
                                 Fixtures.event("ghost", t0, .connected), Fixtures.event("ghost", t0 + 60_000, .disconnected)])
        _ = try EvaluationCycle(db).evaluate(at: t0)
        _ = try EvaluationCycle(db).evaluate(at: t0 + 40 * 60_000)
        let m = Mitigation(db)
        _ = try m.createAction(name: "quarantine", roleARN: "arn:aws:iam::1:role/m",
                               params: try JSONValue.parse(#"{"addThingsToThingGroupParams":{"thingGroupNames":["Quarantine"]}}"#), at: 0)
        _ = try m.createAction(name: "log", roleARN: "arn:aws:iam::1:role/m", params: try JSONValue.parse(#"{"enableIoTLoggingParams":{"roleArnForLogging":"arn:aws:iam::1:role/l","logLevel":"INFO"}}"#), at: 0)
        return db
    }

    func statuses(_ db: FleetDatabase, _ task: String) throws -> [String] {
        (try Mitigation(db).listExecutions(taskId: task, violationId: nil, thingName: nil, start: nil, end: nil)["actionsExecutions"]?.arrayValue ?? [])
            .map { "\($0["thingName"]!.stringValue!) \($0["actionName"]!.stringValue!) \($0["status"]!.stringValue!)" }.sorted()
    }

    @Test(arguments: Backend.allCases) func byProfileAndBehavior(_ backend: Backend) throws {
        let db = try setup(backend: backend)
        _ = try Mitigation(db).startTask(taskId: "t1", target: try JSONValue.parse(#"{"securityProfileName":"P","behaviorName":"Lost"}"#),
                                         actions: ["quarantine", "log"], range: nil, onlyActive: true, includeSuppressed: false, at: t0 + 41 * 60_000)
        #expect(try statuses(db, "t1") == ["a log SKIPPED", "a quarantine SUCCESSFUL", "b log SKIPPED", "b quarantine SUCCESSFUL",
                                           "ghost log SKIPPED", "ghost quarantine FAILED"])
        #expect(try Fixtures.search(db, "thingGroupNames:Quarantine") == ["a", "b"])
        let d = try Mitigation(db).describeTask(taskId: "t1")["taskSummary"]!
        #expect(d["taskStatistics"]?["actionsSkipped"]?.int64Value == 3)
    }

    @Test(arguments: Backend.allCases) func byViolationIds(_ backend: Backend) throws {
        let db = try setup(backend: backend)
        let id = try db.connection.scalar("SELECT a.violation_id FROM alarm a JOIN client c ON c.id = a.client WHERE c.client_id = 'b'")!.string!
        _ = try Mitigation(db).startTask(taskId: "t2", target: .object([JSONMember("violationIds", .array([.string(id)]))]),
                                         actions: ["quarantine"], range: nil, onlyActive: false, includeSuppressed: false, at: t0)
        #expect(try statuses(db, "t2") == ["b quarantine SUCCESSFUL"])
    }

    @Test(arguments: Backend.allCases) func byTimeRange(_ backend: Backend) throws {
        let db = try setup(backend: backend)
        // a and ghost went in alarm at 10:10; b (disconnected at 10:20) at 10:25.
        let range = jsonObject([("startTime", .string("2026-11-28T10:20:00Z")), ("endTime", .string("2026-11-28T10:30:00Z"))])
        _ = try Mitigation(db).startTask(taskId: "t3", target: try JSONValue.parse(#"{"securityProfileName":"P"}"#), actions: ["quarantine"],
                                         range: range, onlyActive: false, includeSuppressed: false, at: t0)
        #expect(try statuses(db, "t3") == ["b quarantine SUCCESSFUL"])
        #expect(throws: FleetError.self) {
            try Mitigation(db).createAction(name: "bad", roleARN: "arn:aws:iam::1:role/m", params: try JSONValue.parse(#"{"addThingsToThingGroupParams":{"thingGroupNames":["nope"]}}"#), at: 0)
        }
    }
}
