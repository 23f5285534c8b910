// The registry operations and their AWS failures.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

@Suite struct RegistryTests {
    @Test(arguments: Backend.allCases) func createDescribeUpdateDelete(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingType(name: "Pump", properties: nil, at: 0)
        let created = try r.createThing(name: "pump-17", typeName: "Pump", attributes: [("site", "denver"), ("model", "P200")], at: 0)
        let d = try r.describeThing(name: "pump-17")
        #expect(d["thingId"] == created["thingId"])
        #expect(d["thingTypeName"]?.stringValue == "Pump")
        #expect(d["attributes"]?["site"]?.stringValue == "denver")
        #expect(d["version"]?.int64Value == 1)
        // The same create again is idempotent; different attributes conflict.
        #expect(try r.createThing(name: "pump-17", typeName: "Pump", attributes: [("model", "P200"), ("site", "denver")], at: 0)["thingId"] == created["thingId"])
        #expect { try r.createThing(name: "pump-17", typeName: nil, attributes: nil, at: 0) } throws: { ($0 as? FleetError)?.exception == "ResourceAlreadyExistsException" }
        // merge:true merges, "" removes.
        _ = try r.updateThing(name: "pump-17", typeName: nil, removeThingType: false, attributePayload: ([("site", ""), ("rack", "r1")], true), expectedVersion: 1)
        let d2 = try r.describeThing(name: "pump-17")
        #expect(d2["attributes"] == .object([JSONMember("model", .string("P200")), JSONMember("rack", .string("r1"))]))
        #expect(d2["version"]?.int64Value == 2)
        #expect { try r.updateThing(name: "pump-17", typeName: nil, removeThingType: true, attributePayload: nil, expectedVersion: 1) } throws: {
            ($0 as? FleetError)?.exception == "VersionConflictException"
        }
        _ = try r.deleteThing(name: "pump-17", expectedVersion: nil, at: 0)
        #expect { try r.describeThing(name: "pump-17") } throws: { ($0 as? FleetError)?.exception == "ResourceNotFoundException" }
        #expect(try Fixtures.search(db, "attributes.model:P200").isEmpty)
    }

    @Test(arguments: [
        ("bad name", "InvalidRequestException"), ("", "InvalidRequestException"), (String(repeating: "x", count: 129), "InvalidRequestException"),
    ])
    func badNames(_ name: String, _ exception: String) throws {
        let db = try Fixtures.database()
        #expect { try Registry(db).createThing(name: name, typeName: nil, attributes: nil, at: 0) } throws: { ($0 as? FleetError)?.exception == exception }
        #expect(try db.connection.scalar("SELECT count(*) FROM thing")?.int == 0)
    }

    @Test(arguments: [("site", "has space"), ("bad key!", "v"), ("k", String(repeating: "v", count: 801))])
    func badAttributes(_ key: String, _ value: String) throws {
        #expect(throws: FleetError.self) { try Registry.attributes(.object([JSONMember(key, .string(value))])) }
    }

    @Test(arguments: Backend.allCases) func missingTypeAndGroupAreNotFound(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        #expect { try r.createThing(name: "a", typeName: "Nope", attributes: nil, at: 0) } throws: { ($0 as? FleetError)?.exception == "ResourceNotFoundException" }
        #expect { try r.createThingGroup(name: "g", parent: "nope", properties: nil, at: 0) } throws: { ($0 as? FleetError)?.exception == "ResourceNotFoundException" }
    }

    @Test(arguments: Backend.allCases) func groupHierarchyAndRecursiveListing(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingGroup(name: "plant-a", parent: nil, properties: nil, at: 0)
        _ = try r.createThingGroup(name: "line-1", parent: "plant-a", properties: nil, at: 0)
        _ = try r.createThing(name: "pump-17", typeName: nil, attributes: nil, at: 0)
        _ = try r.addThingToThingGroup(group: "line-1", thingName: "pump-17", overrideDynamicGroups: false, at: 0)
        #expect(try r.listThingsInThingGroup(group: "plant-a", recursive: false, maxResults: nil, nextToken: nil)["things"] == .array([]))
        #expect(try r.listThingsInThingGroup(group: "plant-a", recursive: true, maxResults: nil, nextToken: nil)["things"] == .array([.string("pump-17")]))
        let d = try r.describeThingGroup(name: "line-1")
        #expect(d["thingGroupMetadata"]?["parentGroupName"]?.stringValue == "plant-a")
        #expect(try Fixtures.search(db, "thingGroupNames:plant-a") == ["pump-17"])
        #expect { try r.deleteThingGroup(name: "plant-a", expectedVersion: nil) } throws: { ($0 as? FleetError)?.exception == "InvalidRequestException" }
    }

    @Test(arguments: Backend.allCases) func tenGroupsPerThing(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThing(name: "t", typeName: nil, attributes: nil, at: 0)
        for i in 0..<11 { _ = try r.createThingGroup(name: "g\(i)", parent: nil, properties: nil, at: 0) }
        for i in 0..<10 { _ = try r.addThingToThingGroup(group: "g\(i)", thingName: "t", overrideDynamicGroups: false, at: 0) }
        #expect { try r.addThingToThingGroup(group: "g10", thingName: "t", overrideDynamicGroups: false, at: 0) } throws: {
            ($0 as? FleetError)?.exception == "LimitExceededException"
        }
    }

    @Test(arguments: Backend.allCases) func shadowsAreMergedAndIndexed(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThing(name: "t", typeName: nil, attributes: nil, at: 0)
        _ = try r.updateThingShadow(thingName: "t", shadowName: nil, payload: try JSONValue.parse(#"{"state":{"reported":{"temp":71.5,"mode":"eco"},"desired":{"mode":"boost"}}}"#), at: 0)
        _ = try r.updateThingShadow(thingName: "t", shadowName: nil, payload: try JSONValue.parse(#"{"state":{"reported":{"temp":null}}}"#), at: 0)
        #expect(try Fixtures.search(db, "shadow.reported.mode:ECO") == ["t"])
        #expect(try Fixtures.search(db, "shadow.reported.temp:*").isEmpty)
        #expect(try Fixtures.search(db, "shadow.delta.mode:boost") == ["t"])
        #expect(try Fixtures.search(db, "shadow.hasDelta:true") == ["t"])
        _ = try r.updateThingShadow(thingName: "t", shadowName: "gps", payload: try JSONValue.parse(#"{"state":{"reported":{"sats":9}}}"#), at: 0)
        #expect(try Fixtures.search(db, "shadow.name.*.reported.sats>=8") == ["t"])
    }

    @Test(arguments: Backend.allCases) func importIsAtomic(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let dir = testRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let good = dir.appendingPathComponent("good.jsonl").path
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try """
            {"thingName":"a","thingTypeName":"Pump","attributes":{"site":"x"},"thingGroupNames":["g1"],"shadow":{"state":{"reported":{"t":1}}}}
            {"thingName":"b"}

            """.write(toFile: good, atomically: true, encoding: .utf8)
        try """
            {"thingName":"c"}
            {"thingName":"d","attributes":{"k":"bad value"}}

            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let s = try Importer(db).importThings(try LineReader(path: good), at: 0)
        #expect(s.created == 2 && s.typesCreated == 1 && s.groupsCreated == 1)
        #expect { try Importer(db).importThings(try LineReader(path: bad), at: 0) } throws: {
            ($0 as? FleetError)?.message.hasPrefix("line 2:") == true
        }
        #expect(try db.connection.scalar("SELECT count(*) FROM thing")?.int == 2)
        #expect(try Fixtures.search(db, "thingGroupNames:g1 AND shadow.reported.t:1 AND thingTypeName:pump") == ["a"])
        // Re-importing the same lines upserts: nothing is duplicated, and unchanged things keep their version.
        _ = try Importer(db).importThings(try LineReader(path: good), at: 0)
        #expect(try Registry(db).describeThing(name: "a")["version"]?.int64Value == 1)
    }

    @Test(arguments: Backend.allCases) func notSQLiteIsRefused(_ backend: Backend) throws {
        let path = testRoot.appendingPathComponent("\(UUID().uuidString).sqlite").path
        try String(repeating: "not a database ", count: 100).write(toFile: path, atomically: true, encoding: .utf8)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        #expect(throws: FleetError.self) { try FleetDatabase(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
    }

    /// The planner's member counts follow every way membership changes.
    @Test(arguments: Backend.allCases) func groupMemberCountsFollowMembership(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingGroup(name: "plant", parent: nil, properties: nil, at: 0)
        _ = try r.createThingGroup(name: "line", parent: "plant", properties: nil, at: 0)
        for i in 0..<6 { _ = try r.createThing(name: "t\(i)", typeName: nil, attributes: [("site", i < 3 ? "a" : "b")], at: 0) }
        for i in 0..<4 { _ = try r.addThingToThingGroup(group: i < 2 ? "plant" : "line", thingName: "t\(i)", overrideDynamicGroups: false, at: 0) }
        _ = try? r.addThingToThingGroup(group: "line", thingName: "t3", overrideDynamicGroups: false, at: 0)
        _ = try r.removeThingFromThingGroup(group: "plant", thingName: "t1")
        _ = try r.deleteThing(name: "t2", expectedVersion: nil, at: 0)
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "site-a", query: "attributes.site:a", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        _ = try r.updateThing(name: "t4", typeName: nil, removeThingType: false, attributePayload: ([("site", "a")], true), expectedVersion: nil)
        _ = try DynamicGroups(db).refreshAll(at: 2, reason: "test")
        // An import adds members (once each, however often a line repeats them) and groups.
        let dir = testRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("members.jsonl").path
        try """
            {"thingName":"t5","thingGroupNames":["line","fresh"]}
            {"thingName":"t6","thingGroupNames":["fresh"]}
            {"thingName":"t5","thingGroupNames":["line"]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try Importer(db).importThings(try LineReader(path: file), at: 3)
        let rows = try db.connection.query("SELECT name, member_count, (SELECT count(*) FROM thing_group_member AS m WHERE m.group_id = g.id) FROM thing_group AS g ORDER BY name") {
            "\($0.text(0)) \($0.int(1)) \($0.int(2))"
        }
        #expect(rows == ["fresh 2 2", "line 2 2", "plant 1 1", "site-a 3 3"])
    }
}
