// SQL lowering: golden SQL and parameters for each construct; values never enter the text.
import FleetQuery
import FleetStorage
import Testing

@Suite struct LoweringTests {
    func lower(_ q: String) throws -> SQLFragment {
        SQLLowering().lower(try Binder.compile(q, now: 1_000_000))
    }

    @Test(arguments: [
        ("thingName:pump-1*", "t.name_lower GLOB ?", [SQLParameter.text("pump-1*")]),
        ("attributes.site:Denver", "t.id IN (SELECT x.thing FROM thing_text AS x WHERE x.field = ? AND x.value = ?)",
         [.text("attributes.site"), .text("denver")]),
        ("attributes.n>=5", "t.id IN (SELECT x.thing FROM thing_number AS x WHERE x.field = ? AND (x.value IS NOT NULL AND x.value >= ?))",
         [.text("attributes.n"), .real(5)]),
        ("connectivity.connected:false", "t.connected = ?", [.integer(0)]),
        ("shadow.reported.location:*", "(t.id IN (SELECT x.thing FROM thing_text AS x WHERE (x.field = ? OR x.field GLOB ?)) OR t.id IN (SELECT x.thing FROM thing_number AS x WHERE (x.field = ? OR x.field GLOB ?)) OR t.id IN (SELECT x.thing FROM thing_flag AS x WHERE (x.field = ? OR x.field GLOB ?)))",
         Array(repeating: [SQLParameter.text("shadow.reported.location"), .text("shadow.reported.location.*")], count: 3).flatMap { $0 }),
        ("deviceDefender.P.*.inViolation:true", "t.id IN (SELECT a.thing FROM alarm AS a WHERE a.in_alarm = 1 AND a.thing IS NOT NULL AND a.profile = ?)",
         [.text("P")]),
        ("thingGroupNames:geo", "t.id IN (SELECT m.thing FROM thing_group AS g JOIN thing_group_ancestor AS a ON a.ancestor = g.id JOIN thing_group_member AS m ON m.group_id = a.group_id WHERE g.name_lower = ?)",
         [.text("geo")]),
        ("NOT thingTypeName:T", "NOT ((t.type IS NOT NULL AND t.type IN (SELECT y.id FROM thing_type AS y WHERE y.name_lower = ?)))", [.text("t")]),
    ])
    func lowers(_ q: String, _ sql: String, _ binds: [SQLParameter]) throws {
        let f = try lower(q)
        #expect(f.sql == sql)
        #expect(f.binds == binds)
    }

    @Test func valuesAreAlwaysBound() throws {
        let hostile = #"attributes.x:"'; DROP TABLE thing; --" OR thingName:robert*"#
        let f = try lower(hostile)
        #expect(!f.sql.contains("DROP"))
        #expect(f.binds.contains(.text("'; drop table thing; --")))
    }

    @Test(arguments: [("a*b", "aXXb", true), ("a?c", "abc", true), ("a?c", "abbc", false), ("[*]x", "*x", true), ("[*]x", "ax", false),
                      ("*", "", true), ("*7", "meter-7", true), ("sn00*", "sn0012", true), ("é?", "éa", true)])
    func globMatches(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
