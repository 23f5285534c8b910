// import-things: every bad line named, every good line kept (or, atomic, nothing kept), and a
// re-import of what is already there changes nothing.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

@Suite struct ImportTests {
    struct Run {
        var summary: Importer.Summary?
        var error: FleetError?
        var rejected: [Int] = []
    }

    func importing(_ db: FleetDatabase, _ lines: [String], atomic: Bool) -> Run {
        var run = Run()
        do {
            run.summary = try Importer(db).importThings(LineReader(bytes: Array(lines.joined(separator: "\n").utf8)), atomic: atomic, at: 0,
                                                        rejected: { n, _ in run.rejected.append(n) })
        } catch {
            run.error = error as? FleetError
        }
        return run
    }

    func names(_ db: FleetDatabase) throws -> [String] {
        try db.connection.query("SELECT name FROM thing ORDER BY name") { $0.text(0) }
    }

    static let bad: [(String, String)] = [
        (#"{"thingName":"bad name"}"#, "must match"),
        (#"not json"#, "malformed JSON"),
        (#"{"thingName":"x","attributes":{"k":"bad value"}}"#, "attribute 'k'"),
        (#"{"thingName":"x","thingTypeName":"bad type"}"#, "thingTypeName"),
        (#"{"thingName":"x","thingGroupNames":["g","bad group"]}"#, "thingGroupName"),
        (#"{"thingName":"x","thingGroupNames":["g1","g2","g3","g4","g5","g6","g7","g8","g9","g10","g11"]}"#, "at most 10"),
        (#"{"thingName":"x","thingGroupNames":["dyn"]}"#, "dynamic thing group"),
        (#"{"thingName":"x","shadow":{"reported":{}}}"#, "shadow must be"),
        (#"["thingName"]"#, "expected a JSON object"),
    ]

    /// A bad line in the middle of good ones: named, and the good lines around it are imported;
    /// nothing of the bad line is (not its group, type or thing).
    @Test(arguments: 0..<bad.count)
    func aBadLineIsNamedAndTheRestIsKept(_ i: Int) throws {
        let db = try Fixtures.database()
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "dyn", query: "attributes.k:v", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        var reason = ""
        let lines = [#"{"thingName":"a","thingGroupNames":["g0"]}"#, Self.bad[i].0, #"{"thingName":"b"}"#, Self.bad[i].0]
        let s = try Importer(db).importThings(LineReader(bytes: Array(lines.joined(separator: "\n").utf8)), atomic: false, at: 0,
                                              rejected: { n, r in if n == 2 { reason = r } })
        #expect(s.lines == 2 && s.created == 2 && s.rejected == 2)
        #expect(reason.contains(Self.bad[i].1), "\(reason)")
        #expect(try names(db) == ["a", "b"])
        #expect(try db.connection.query("SELECT name FROM thing_group WHERE query IS NULL ORDER BY name") { $0.text(0) } == ["g0"])
        #expect(try db.connection.scalar("SELECT count(*) FROM thing_type")?.int == 0)
    }

    @Test(arguments: [false, true])
    func atomicKeepsEverythingOutAndStillNamesEveryBadLine(_ atomic: Bool) throws {
        let db = try Fixtures.database()
        let r = importing(db, [#"{"thingName":"a","thingTypeName":"Pump","thingGroupNames":["g"]}"#, "{oops", #"{"thingName":"b"}"#, #"{"thingName":"c d"}"#], atomic: atomic)
        #expect(r.rejected == [2, 4])
        if atomic {
            #expect(r.summary == nil && r.error?.message.hasPrefix("line 2: malformed JSON") == true)
            #expect(r.error?.message.contains("1 more line rejected; nothing was imported") == true)
            #expect(try names(db) == [])
            #expect(try db.connection.scalar("SELECT count(*) FROM thing_type")?.int == 0)
            #expect(try db.connection.scalar("SELECT count(*) FROM thing_group")?.int == 0)
        } else {
            #expect(r.error == nil && r.summary?.created == 2 && r.summary?.rejected == 2)
            #expect(try names(db) == ["a", "b"])
        }
    }

    /// A line's groups are checked against the thing's memberships before anything is written.
    @Test(arguments: Backend.allCases) func tooManyGroupsForAnExistingThing(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let groups = (1...9).map { "\"g\($0)\"" }.joined(separator: ",")
        _ = importing(db, [#"{"thingName":"a","attributes":{"k":"1"},"thingGroupNames":[\#(groups)]}"#], atomic: false)
        let r = importing(db, [#"{"thingName":"a","attributes":{"k":"2"},"thingGroupNames":["h1","h2"]}"#], atomic: false)
        #expect(r.rejected == [1] && r.summary?.rejected == 1)
        #expect(try Registry(db).describeThing(name: "a")["attributes"]?["k"]?.stringValue == "1")
        #expect(try db.connection.scalar("SELECT count(*) FROM thing_group WHERE name LIKE 'h%'")?.int == 0)
    }

    /// New things' index rows are written in key order a chunk at a time: a thing that comes
    /// back later in the same file is indexed by its last line, numbers as numbers.
    @Test(arguments: Backend.allCases) func aThingTwiceInOneFileIsIndexedByItsLastLine(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let r = importing(db, [#"{"thingName":"a","attributes":{"site":"x","n":"7"}}"#, #"{"thingName":"b","attributes":{"site":"x","n":"3"}}"#,
                               #"{"thingName":"a","attributes":{"site":"y","n":"9"}}"#], atomic: true)
        #expect(r.summary?.created == 2 && r.summary?.updated == 1)
        #expect(try Fixtures.search(db, "attributes.site:x") == ["b"])
        #expect(try Fixtures.search(db, "attributes.site:y AND attributes.n>8") == ["a"])
        #expect(try Fixtures.search(db, "attributes.n<8") == ["b"])
        #expect(try db.connection.scalar("SELECT count(*) FROM thing_text")?.int == 4)
    }

    /// Re-importing a thing as it is leaves its version (and its shadow's) alone; a change bumps it once.
    @Test(arguments: Backend.allCases) func reimportingUnchangedThingsLeavesTheirVersions(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let lines = [#"{"thingName":"a","thingTypeName":"Pump","attributes":{"site":"x"},"thingGroupNames":["g1"],"shadow":{"state":{"reported":{"t":1}}}}"#,
                     #"{"thingName":"b"}"#]
        let first = importing(db, lines, atomic: true)
        #expect(first.summary?.created == 2)
        let again = importing(db, lines, atomic: true)
        #expect(again.summary?.unchanged == 2 && again.summary?.updated == 0)
        #expect(try Registry(db).describeThing(name: "a")["version"]?.int64Value == 1)
        #expect(try db.connection.scalar("SELECT version FROM shadow WHERE name = ''")?.int == 1)
        let changed = importing(db, [#"{"thingName":"a","thingTypeName":"Pump","attributes":{"site":"y"}}"#], atomic: true)
        #expect(changed.summary?.updated == 1)
        #expect(try Registry(db).describeThing(name: "a")["version"]?.int64Value == 2)
        #expect(try Fixtures.search(db, "attributes.site:y") == ["a"] && Fixtures.search(db, "attributes.site:x") == [])
    }
}
