// Dynamic groups: membership equals a fresh search after every cycle; joins and leaves are
// logged exactly once.
import FleetIndex
import FleetSQLite
import Testing

@Suite struct DynamicGroupTests {
    let t0 = Fixtures.t0

    @Test func membershipFollowsViolations() throws {
        let db = try Fixtures.database()
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

    @Test func queryChangeRebuilds() throws {
        let db = try Fixtures.database()
        for (t, s) in [("a", "x"), ("b", "y")] { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: [("site", s)], at: 0) }
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "G", query: "attributes.site:x", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        _ = try DynamicGroups(db).updateDynamicThingGroup(name: "G", query: "attributes.site:y", expectedVersion: nil, at: 1)
        #expect(try Registry(db).listThingsInThingGroup(group: "G", recursive: false, maxResults: nil, nextToken: nil)["things"] == .array([.string("b")]))
        #expect(throws: FleetError.self) { try DynamicGroups(db).createDynamicThingGroup(name: "H", query: "attributes.site:", indexName: nil, queryVersion: nil, properties: nil, at: 0) }
    }
}
