// import-things on both engines: PostgreSQL writes a batch of lines set-based (COPY, arrays)
// where SQLite runs a statement per row; the result must be the same. Each scenario imports
// its files on SQLite and on PostgreSQL and compares everything a user can see: the summaries,
// the rejected lines and errors, describe-thing, memberships and counts, shadows, index rows,
// the change log of dynamic groups, client links and search results.
import FleetIndex
import Foundation
import Testing

@Suite struct ImportBackendTests {
    struct File {
        var lines: [String]
        var atomic = true
    }

    struct Scenario: CustomStringConvertible {
        var description: String
        var setup: (FleetDatabase) throws -> Void = { _ in }
        var files: [File]
        var queries: [String] = []
    }

    static func thing(_ name: String, type: String? = nil, attributes: [(String, String)] = [], groups: [String]? = nil,
                      shadow: String? = nil) -> String {
        var parts = [#""thingName":\#(JSONValue.string(name).compact)"#]
        if let type { parts.append(#""thingTypeName":"\#(type)""#) }
        if !attributes.isEmpty {
            parts.append(#""attributes":"# + JSONValue.object(attributes.map { JSONMember($0.0, .string($0.1)) }).compact)
        }
        if let groups { parts.append(#""thingGroupNames":"# + JSONValue.array(groups.map(JSONValue.string)).compact) }
        if let shadow { parts.append(#""shadow":\#(shadow)"#) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static let commonQueries = [
        "thingName:*", "attributes.site:x", "attributes.site:y*", "attributes.n>5", "attributes.n<5", "thingTypeName:Pump",
        "thingGroupNames:g1", "thingGroupNames:g2", "shadow.reported.t>1", "shadow.reported.mode:eco", "shadow.hasDelta:true",
        "connectivity.connected:true", "attributes.note:*", "attributes.k:v",
    ]

    static var scenarios: [Scenario] { [
        Scenario(description: "attributes, types, groups and shadows", files: [File(lines: (0..<40).map { i in
            thing("t\(i)", type: ["Pump", "Meter", nil][i % 3],
                  attributes: [("site", ["x", "y", "yard", "X"][i % 4]), ("n", "\(i % 9)"), ("note", ["a=b", "[1]", "", "NULL", "N", "@x/y:z#", "-5", "1e3", "0.25"][i % 9])],
                  groups: i % 5 == 0 ? ["g1"] : i % 7 == 0 ? ["g1", "g2"] : nil,
                  shadow: i % 4 == 0 ? #"{"state":{"reported":{"t":\#(i % 3),"mode":\#(JSONValue.string(["eco", "tab\there", "back\\slash", "\\N", "ünï ✓", "line\nbreak\r"][i % 6]).compact)},"desired":{"t":2}}}"# : nil)
        }, atomic: false)]),
        Scenario(description: "a thing several times in one file", files: [File(lines: [
            thing("a", type: "Pump", attributes: [("site", "x"), ("n", "7")], groups: ["g1"], shadow: #"{"state":{"reported":{"t":1}}}"#),
            thing("b", attributes: [("site", "x")], groups: ["g1"]),
            thing("a", type: "Pump", attributes: [("site", "y"), ("n", "9")], groups: ["g2", "g1"], shadow: #"{"state":{"reported":{"t":5,"mode":"eco"}}}"#),
            thing("c", shadow: #"{"state":{"desired":{"t":3}}}"#),
            thing("a", type: "Pump", attributes: [("site", "y"), ("n", "9")], groups: ["g1"]),
            thing("c", type: "Meter", attributes: [("n", "1")], shadow: #"{"state":{"desired":{"t":3}}}"#),
            thing("b", attributes: [("site", "x")], groups: ["g1"]),
        ])]),
        Scenario(description: "many things across batches, some twice", files: [File(lines: (0..<2600).map { i in
            let k = i < 2200 ? i : i - 1300   // lines 2200... repeat things of the second batch
            return thing("m\(k)", type: k % 2 == 0 ? "Pump" : nil, attributes: [("site", i < 2200 ? "x" : "y"), ("n", "\(k % 11)")],
                         groups: k % 13 == 0 ? [i < 2200 ? "g1" : "g2"] : nil,
                         shadow: k % 17 == 0 ? #"{"state":{"reported":{"t":\#(i % 4)}}}"# : nil)
        })]),
        Scenario(description: "re-importing over existing things", files: [
            File(lines: (0..<30).map { i in
                thing("r\(i)", type: "Pump", attributes: [("site", "x"), ("n", "\(i)")], groups: i % 3 == 0 ? ["g1"] : nil,
                      shadow: i % 2 == 0 ? #"{"state":{"reported":{"t":1}}}"# : nil)
            } + [thing("full", groups: (1...9).map { "h\($0)" })]),
            File(lines: (0..<40).map { i in
                i % 4 == 0 ? thing("r\(i)", type: "Pump", attributes: [("site", "x"), ("n", "\(i)")], groups: i % 3 == 0 ? ["g1"] : nil,
                                   shadow: i % 2 == 0 ? #"{"state":{"reported":{"t":1}}}"# : nil)   // as it is
                    : thing("r\(i)", type: i % 4 == 1 ? "Meter" : "Pump", attributes: [("site", "y"), ("n", "\(i + 1)")],
                            groups: ["g2"] + (i % 3 == 0 ? ["g1"] : []), shadow: #"{"state":{"reported":{"t":\#(i % 5),"mode":"eco"}}}"#)
            } + [thing("full", groups: ["h10", "h11"]), thing("full", groups: ["h10"]), thing("full", groups: ["h1", "h2"])], atomic: false),
        ]),
        Scenario(description: "bad lines, atomic and not", setup: { db in
            _ = try DynamicGroups(db).createDynamicThingGroup(name: "dyn", query: "attributes.k:v", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        }, files: [
            File(lines: [thing("a", type: "Pump", groups: ["g1"]), "{oops", thing("b", attributes: [("k", "v")]), #"{"thingName":"c d"}"#,
                         thing("x", groups: ["dyn"]), thing("y", groups: (1...11).map { "g\($0)" })], atomic: true),
            File(lines: [thing("a", type: "Pump", groups: ["g1"]), "{oops", thing("b", attributes: [("k", "v")]), #"{"thingName":"c d"}"#,
                         thing("x", groups: ["dyn"]), "", "   ", #"["thingName"]"#, thing("b", attributes: [("k", "w")]),
                         #"{"thingName":"z","shadow":{"reported":{}}}"#, thing("d", attributes: [("bad", "a\u{1}b")])], atomic: false),
        ]),
        Scenario(description: "a dynamic group and connected clients", setup: { db in
            _ = try DynamicGroups(db).createDynamicThingGroup(name: "dyn", query: "attributes.k:v", indexName: nil, queryVersion: nil, properties: nil, at: 0)
            try Fixtures.ingest(db, [Fixtures.event("c1", Fixtures.t0, .connected), Fixtures.event("c2", Fixtures.t0, .connected),
                                     Fixtures.event("c2", Fixtures.t0 + 1000, .disconnected)])
        }, files: [
            File(lines: [thing("c1", attributes: [("k", "v")], groups: ["g1"]), thing("c2", shadow: #"{"state":{"reported":{"t":2}}}"#), thing("c3"),
                         thing("c1", attributes: [("k", "v"), ("site", "x")])]),
            File(lines: [thing("c3", attributes: [("k", "v")]), thing("c4", groups: ["g2"])]),
        ]),
    ] }

    /// Everything a scenario leaves, as lines (ids and random thing ids left out: the engines number differently).
    static func run(_ scenario: Scenario, on backend: Backend) throws -> [String] {
        let db = try Fixtures.database(backend)
        try scenario.setup(db)
        var out: [String] = []
        for (f, file) in scenario.files.enumerated() {
            var rejected: [String] = []
            do {
                let reader = LineReader(bytes: Array(file.lines.joined(separator: "\n").utf8))
                let s = try Importer(db).importThings(reader, atomic: file.atomic, at: Int64(1000 * (f + 1)),
                                                      rejected: { n, reason in rejected.append("\(n): \(reason)") })
                out.append("file \(f): \(s)")
            } catch let e as FleetError {
                out.append("file \(f) failed: \(e.code) \(e.message)")
            }
            out += rejected.map { "file \(f) rejected \($0)" }
        }
        let c = db.connection
        func rows(_ sql: String, _ columns: Int) throws -> [String] {
            try c.query(sql) { r in
                (0..<columns).map { i in r.isNull(i) ? "NULL" : r.text(i) }.joined(separator: " | ")
            }.sorted()
        }
        out += try rows("SELECT t.name, t.name_lower, ty.name, t.attributes, t.version, t.created_at, t.conn_ts, t.disconnect_reason FROM thing t LEFT JOIN thing_type ty ON ty.id = t.type", 8).map { "thing " + $0 }
        out += try c.query("SELECT name, connected FROM thing") { "connected \($0.text(0)) \($0.int(1))" }.sorted()
        out += try c.query("SELECT count(DISTINCT thing_id), count(*) FROM thing") { "thing ids \($0.int(0)) of \($0.int(1))" }
        out += try rows("SELECT name, member_count, query FROM thing_group", 3).map { "group " + $0 }
        out += try rows("SELECT name FROM thing_type", 1).map { "type " + $0 }
        out += try rows("SELECT g.name, t.name, m.added_at FROM thing_group_member m JOIN thing_group g ON g.id = m.group_id JOIN thing t ON t.id = m.thing", 3).map { "member " + $0 }
        out += try rows("SELECT t.name, s.name, s.document, s.version, s.updated_at FROM shadow s JOIN thing t ON t.id = s.thing", 5).map { "shadow " + $0 }
        out += try c.query("SELECT t.name, s.has_delta FROM shadow s JOIN thing t ON t.id = s.thing") { "delta \($0.text(0)) \($0.int(1))" }.sorted()
        out += try rows("SELECT x.field, x.value, t.name FROM thing_text x JOIN thing t ON t.id = x.thing", 3).map { "text " + $0 }
        out += try c.query("SELECT x.field, x.value, t.name FROM thing_number x JOIN thing t ON t.id = x.thing") { "number \($0.text(0)) \($0.double(1)) \($0.text(2))" }.sorted()
        out += try c.query("SELECT x.field, x.value, t.name FROM thing_flag x JOIN thing t ON t.id = x.thing") { "flag \($0.text(0)) \($0.int(1)) \($0.text(2))" }.sorted()
        for table in ["thing_text", "thing_number", "thing_flag", "thing_touch"] {
            out += try c.query("SELECT count(*) FROM \(table) WHERE thing NOT IN (SELECT id FROM thing)") { "\(table) orphans \($0.int(0))" }
        }
        out += try rows("SELECT t.name FROM thing_touch x JOIN thing t ON t.id = x.thing", 1).map { "touched " + $0 }
        out += try rows("SELECT c.client_id, t.name FROM client c LEFT JOIN thing t ON t.id = c.thing", 2).map { "client " + $0 }
        let registry = Registry(db)
        for name in try c.query("SELECT name FROM thing", [], { $0.text(0) }).sorted() {
            guard case .object(let members) = try registry.describeThing(name: name) else { continue }
            out.append("describe " + JSONValue.object(members.filter { $0.key != "thingId" }).compact)
            out.append("groups of \(name) " + (try registry.listThingGroupsForThing(thingName: name, maxResults: nil, nextToken: nil)).compact)
        }
        for q in commonQueries + scenario.queries {
            out.append("search \(q): " + (try Fixtures.search(db, q, at: 10_000)).joined(separator: ","))
        }
        return out
    }

    @Test(arguments: scenarios.indices)
    func postgresImportsWhatSQLiteImports(_ i: Int) throws {
        let scenario = Self.scenarios[i]
        let sqlite = try Self.run(scenario, on: .sqlite)
        let postgres = try Self.run(scenario, on: .postgres)
        #expect(sqlite.contains { $0.hasPrefix("thing ") }, "\(scenario): nothing imported")
        for (a, b) in zip(sqlite, postgres) where a != b {
            Issue.record("\(scenario): sqlite «\(a)» postgres «\(b)»")
            break
        }
        #expect(sqlite.count == postgres.count, "\(scenario)")
        #expect(sqlite == postgres, "\(scenario)")
    }

    /// The figures of the scenarios themselves (so that both engines agreeing is not both doing nothing).
    @Test(arguments: Backend.allCases)
    func aThingSeveralTimesInOneFileEndsAsItsLastLineSaysOnBothEngines(_ backend: Backend) throws {
        let out = try Self.run(Self.scenarios[1], on: backend)
        #expect(out.first?.hasSuffix("(lines: 7, created: 3, updated: 2, unchanged: 2, rejected: 0, typesCreated: 2, groupsCreated: 2)") == true, "\(out.first ?? "")")
        #expect(out.contains("member g1 | a | 1000") && out.contains("member g2 | a | 1000") && out.contains("member g1 | b | 1000"))
        #expect(out.contains { $0.hasPrefix("shadow a |  | ") && $0.contains(#""t":5"#) && $0.hasSuffix("| 2 | 1000") })
        #expect(out.contains("search attributes.site:y*: a") && out.contains("search attributes.site:x: b"))
        #expect(out.contains { $0.hasPrefix("describe ") && $0.contains(#""thingName":"a""#) && $0.contains(#""version":2"#) })
    }
}
