// Query plans, SQLite style: every indexed construct reaches the large tables through an
// index, with real bound values.
import FleetIndex
import FleetQuery
import FleetStorage
import FleetSQLite
import Testing

@Suite struct QueryPlanTests {
    static func fleet() throws -> FleetDatabase {
        let db = try Fixtures.database()
        let r = Registry(db)
        _ = try r.createThingType(name: "Pump", properties: nil, at: 0)
        _ = try r.createThingGroup(name: "geo", parent: nil, properties: nil, at: 0)
        for i in 0..<200 {
            _ = try r.createThing(name: "pump-\(i)", typeName: i % 2 == 0 ? "Pump" : nil, attributes: [("site", "s\(i % 10)"), ("n", "\(i)")], at: 0)
        }
        try Fixtures.ingest(db, (0..<20).map { Fixtures.event("pump-\($0 * 10)", Fixtures.t0 + Int64($0), .connected) })
        try db.connection.execute(script: "ANALYZE")
        return db
    }

    /// The plan of a first page: as the engine plans it, or with `estimate` saying how many
    /// things each predicate selects.
    func plan(_ q: String, estimate: SQLLowering.Estimator? = nil) throws -> [String] {
        let db = try Self.fleet()
        let s = Search(db)
        var compiled = try s.compile(q, at: 0)
        if let estimate { compiled.condition = SQLLowering(estimate: estimate, ordered: true).lower(compiled.bound) }
        let (sql, binds) = s.pageSQL(compiled, after: "", limit: 100)
        return try db.connection.sqlite!.queryPlan(sql, binds)
    }

    @Test(arguments: [
        ("attributes.site:s1", "SEARCH x USING PRIMARY KEY (field=? AND value=?)"),
        ("attributes.site:s1*", "SEARCH x USING PRIMARY KEY (field=? AND value>? AND value<?)"),
        ("attributes.n>150", "SEARCH x USING PRIMARY KEY (field=? AND value>?)"),
        ("attributes.n:[10 TO 20]", "SEARCH x USING PRIMARY KEY (field=? AND value>? AND value<?)"),
        ("thingTypeName:Pump", "thing_type"),
        ("thingGroupNames:geo", "thing_group"),
        ("connectivity.connected:false", "thing_connected_name"),
        ("connectivity.timestamp>\(Fixtures.t0 + 15)", "thing_conn_ts"),
        ("deviceDefender.P.B.inViolation:true", "alarm_profile_behavior"),
    ])
    func indexedConstructsUseIndexes(_ q: String, _ index: String) throws {
        let p = try plan(q)
        #expect(p.contains { $0.contains(index) }, "\(q): \(p)")
        #expect(!p.contains { $0.contains("SCAN x") || $0.contains("SCAN a ") }, "\(q): \(p)")
    }

    @Test(arguments: [
        ("thingGroupNames:geo", "sqlite_autoindex_thing_1"),
        ("attributes.site:s1 AND thingGroupNames:geo", "sqlite_autoindex_thing_1"),
        ("connectivity.connected:true AND attributes.site:s1", "thing_connected_name"),
    ])
    func largePredicatesWalkTheNameOrderAndProbe(_ q: String, _ walked: String) throws {
        let p = try plan(q) { _, _, _ in SQLLowering.estimateCap }
        #expect(p.contains { $0.contains("SEARCH t USING COVERING INDEX \(walked)") }, "\(q): \(p)")
        #expect(!p.contains { $0.contains("TEMP B-TREE") }, "\(q): \(p)")
        #expect(p.contains { $0.contains("SEARCH p") || $0.contains("SEARCH pm") }, "\(q): \(p)")
    }

    @Test(arguments: [
        ("connectivity.connected:false AND attributes.site:s1", "USING COVERING INDEX thing_disconnected (connected=? AND rowid=?)"),
        ("thingGroupNames:geo AND attributes.site:s1", "USING COVERING INDEX thing_group_member_thing (thing=? AND group_id=?)"),
    ])
    func probesOfASmallDriverSeekIndexesInsideItsSubquery(_ q: String, _ probe: String) throws {
        let p = try plan(q) { f, _, _ in f == .leaf(path: "attributes.site", isPattern: false) ? 10 : SQLLowering.estimateCap }
        #expect(p.contains { $0.contains(probe) }, "\(q): \(p)")
        #expect(p.contains { $0.contains("SEARCH x USING PRIMARY KEY (field=? AND value=?)") }, "\(q): \(p)")
    }

    @Test func nameOrderIsWalkedNotSortedForPrefixOfNames() throws {
        let p = try plan("thingName:pump-1*")
        #expect(!p.contains { $0.contains("SCAN t") && !$0.contains("INDEX") }, "\(p)")
    }

    /// `--explain` says what the planner counted and how far it asked.
    @Test func explainShowsTheEstimates() throws {
        let text = try Search(try Self.fleet()).explain("attributes.site:s1 AND connectivity.connected:false", at: 0)
        #expect(text.contains("estimates:\n  (attributes.site \"s1\") 20 (asked up to 10000)\n  (connectivity.connected false) at least 6 (asked up to 6)\n"), "\(text)")
    }
}
