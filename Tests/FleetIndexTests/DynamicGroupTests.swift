// Dynamic groups: membership equals a fresh search after every cycle; joins and leaves are
// logged exactly once.
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Testing

@Suite struct DynamicGroupTests {
    let t0 = Fixtures.t0

    @Test(arguments: Backend.allCases) func membershipFollowsViolations(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        for t in ["a", "b", "c"] { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        let q = "deviceDefender.P.*.inViolation:true"
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "G", query: q, indexName: nil, queryVersion: nil, properties: nil, at: t0)
        #expect(try Registry(db).describeThingGroup(name: "G")["status"]?.stringValue == "ACTIVE")
        try Fixtures.ingest(db, ["a", "b", "c"].flatMap { [Fixtures.event($0, t0, .connected)] } + [
            Fixtures.event("a", t0 + 60_000, .disconnected), Fixtures.event("b", t0 + 12 * 60_000, .disconnected),
            Fixtures.event("a", t0 + 20 * 60_000, .connected, session: "s2", version: 2)])
        var at = t0
        for _ in 0..<12 {
            at += 5 * 60_000
            _ = try EvaluationCycle(db).evaluate(at: at)
            let members = try Registry(db).listThingsInThingGroup(group: "G", recursive: false, maxResults: nil, nextToken: nil)["things"]?
                .arrayValue?.compactMap(\.stringValue) ?? []
            #expect(members == (try Fixtures.search(db, q, at: at)), "at \(Timestamp.iso(at))")
        }
        let log = try db.connection.query("SELECT thing_name, change FROM group_log ORDER BY id") { "\($0.text(0)) \($0.text(1))" }
        #expect(log == ["a joined", "b joined", "a left"])
        #expect(try Fixtures.search(db, "thingGroupNames:G") == ["b"])
        let report = try DynamicGroups(db).report(group: "G", since: 0)
        #expect(report["groups"]?.arrayValue?.first?["memberCount"]?.int64Value == 1)
        #expect(throws: FleetError.self) { try Registry(db).addThingToThingGroup(group: "G", thingName: "c", overrideDynamicGroups: false, at: 0) }
        _ = try DynamicGroups(db).deleteDynamicThingGroup(name: "G", expectedVersion: nil)
        #expect(try Fixtures.search(db, "thingGroupNames:G").isEmpty)
    }

    @Test(arguments: Backend.allCases) func queryChangeRebuilds(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        for (t, s) in [("a", "x"), ("b", "y")] { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: [("site", s)], at: 0) }
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "G", query: "attributes.site:x", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        _ = try DynamicGroups(db).updateDynamicThingGroup(name: "G", query: "attributes.site:y", expectedVersion: nil, at: 1)
        #expect(try Registry(db).listThingsInThingGroup(group: "G", recursive: false, maxResults: nil, nextToken: nil)["things"] == .array([.string("b")]))
        #expect(throws: FleetError.self) { try DynamicGroups(db).createDynamicThingGroup(name: "H", query: "attributes.site:", indexName: nil, queryVersion: nil, properties: nil, at: 0) }
    }
}

/// The incremental refresh (things touched since the last cycle) gives the membership a full
/// refresh gives, through random registry, shadow, presence and violation changes.
@Suite struct IncrementalRefreshTests {
    @Test(arguments: Backend.allCases, [1, 2] as [UInt64])
    func incrementalEqualsFull(_ backend: Backend, _ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let db = try DifferentialTests.fleet(seed: seed)
        let queries = ["attributes.site:denver", "connectivity.connected:false", "deviceDefender.P.*.inViolation:true",
                       "shadow.reported.mode:eco AND NOT thingGroupNames:ops", "thingGroupNames:geo", "thingGroupNames:G0 AND attributes.model:*",
                       "deviceDefender.violationCount:0", "connectivity.timestamp<now-20m"]
        for (i, q) in queries.enumerated() {
            _ = try DynamicGroups(db).createDynamicThingGroup(name: "G\(i)", query: q, indexName: nil, queryVersion: nil, properties: nil, at: Fixtures.t0)
        }
        let names = try db.connection.query("SELECT name FROM thing") { $0.text(0) }
        var at = Fixtures.t0 + 3_600_000
        for round in 0..<8 {
            for _ in 0..<6 {
                let name = names[Int(rng.next() % UInt64(names.count))]
                switch rng.next() % 5 {
                case 0: _ = try Registry(db).updateThing(name: name, typeName: nil, removeThingType: false, attributePayload: ([("site", ["denver", "austin"][Int(rng.next() % 2)])], true), expectedVersion: nil)
                case 1: _ = try Registry(db).updateThingShadow(thingName: name, shadowName: nil, payload: try JSONValue.parse(#"{"state":{"reported":{"mode":"\#(["eco", "boost"][Int(rng.next() % 2)])"}}}"#), at: at)
                case 2: try Fixtures.ingest(db, [Fixtures.event(name, at - 1000, .connected, session: "r\(round)", version: 100 + Int64(round))])
                case 3: try Fixtures.ingest(db, [Fixtures.event(name, at - 500, .disconnected, session: "r\(round)", version: 100 + Int64(round))])
                default:
                    if rng.next() % 2 == 0 { _ = try Registry(db).addThingToThingGroup(group: "geo-eu", thingName: name, overrideDynamicGroups: false, at: at) }
                    else { _ = try Registry(db).removeThingFromThingGroup(group: "geo-eu", thingName: name) }
                }
            }
            at += 300_000
            _ = try EvaluationCycle(db).evaluate(at: at)
            for (i, q) in queries.enumerated() {
                let members = try Registry(db).listThingsInThingGroup(group: "G\(i)", recursive: false, maxResults: 250, nextToken: nil)["things"]?
                    .arrayValue?.compactMap(\.stringValue) ?? []
                #expect(members == (try Fixtures.search(db, q, at: at)), "round \(round): \(q)")
            }
        }
    }
}

@Suite struct GroupLimitTests {
    /// At most 10 groups per thing: the older dynamic group keeps the thing; a static group
    /// added with --override-dynamic-groups pushes out the newest dynamic group.
    @Test(arguments: Backend.allCases) func tenGroupsWithDynamicPrecedence(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThing(name: "t", typeName: nil, attributes: [("site", "x")], at: 0)
        for i in 0..<10 { _ = try r.createThingGroup(name: "s\(i)", parent: nil, properties: nil, at: 0) }
        for i in 0..<8 { _ = try r.addThingToThingGroup(group: "s\(i)", thingName: "t", overrideDynamicGroups: false, at: 0) }
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "old", query: "attributes.site:x", indexName: nil, queryVersion: nil, properties: nil, at: 1)
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "new", query: "attributes.site:x", indexName: nil, queryVersion: nil, properties: nil, at: 2)
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "newest", query: "attributes.site:x", indexName: nil, queryVersion: nil, properties: nil, at: 3)
        func groups() throws -> [String] {
            (try r.listThingGroupsForThing(thingName: "t", maxResults: nil, nextToken: nil)["thingGroups"]?.arrayValue ?? []).compactMap { $0["groupName"]?.stringValue }
        }
        #expect(try groups().count == 10)
        #expect(try !groups().contains("newest"))
        #expect { try r.addThingToThingGroup(group: "s8", thingName: "t", overrideDynamicGroups: false, at: 4) } throws: {
            ($0 as? FleetError)?.exception == "LimitExceededException"
        }
        _ = try r.addThingToThingGroup(group: "s8", thingName: "t", overrideDynamicGroups: true, at: 4)
        #expect(try groups().contains("s8") && groups().contains("old") && !groups().contains("new"))
    }
}
