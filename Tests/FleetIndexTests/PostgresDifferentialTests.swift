// Differential tests on PostgreSQL: the same random fleets as DifferentialTests, copied into
// a database migrated with Schema/postgres/, and the same random queries lowered with
// PostgresDialect under every planning: PostgreSQL's result equals the Evaluator's, in the
// byte order SQLite's BINARY gives (the schema's COLLATE "C").
import FleetIndex
import FleetPostgres
import FleetQuery
import FleetSQLite
import FleetStorage
import FleetTestSupport
import Testing

@Suite struct PostgresDifferentialTests {
    /// The tables a search reads, in an order their foreign keys accept.
    static let tables = ["thing_type", "thing", "thing_group", "thing_group_ancestor", "thing_group_member", "thing_text",
                         "thing_number", "thing_flag", "security_profile", "profile_target", "client", "alarm"]

    /// A migrated PostgreSQL database holding `db`'s search tables, row for row.
    static func copy(_ db: FleetDatabase) throws -> PostgresConnection {
        let pg = try PostgresConnection(url: try PostgresCluster.shared().database())
        try PostgresMigrator().migrate(pg)
        for table in tables {
            var types: [String: String] = [:]
            for r in try pg.query("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", [table]) {
                types[r.text(0)] = r.text(1)
            }
            let columns = try db.connection.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table]) { $0.text(0) }
                .filter { types[$0] != nil }
            let list = columns.joined(separator: ", ")
            let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
            let insert = "INSERT INTO \(table) (\(list)) VALUES (\(placeholders))"   // identifiers from the catalogs, values bound
            try pg.transaction {
                try db.connection.forEach("SELECT \(list) FROM \(table)") { s in
                    let values: [PostgresValue] = columns.indices.map { i in
                        switch s.value(i) {
                        case .null: return .null
                        case .integer(let v): return types[columns[i]] == "boolean" ? .bool(v != 0) : .int(v)
                        case .real(let d): return .double(d)
                        case .text(let t): return .text(t)
                        case .blob: return .null
                        }
                    }
                    try pg.execute(insert, values)
                }
            }
        }
        try pg.execute(script: "ANALYZE")
        return pg
    }

    static func names(_ pg: PostgresConnection, _ condition: SQLFragment) throws -> [String] {
        let dialect = PostgresDialect()
        let sql = "SELECT t.name FROM thing AS t WHERE " + dialect.text(of: condition) + " ORDER BY t.name"
        return try pg.query(sql, condition.binds.map { PostgresValue.text(PostgresDialect.parameterText($0)) }).map { $0.text(0) }
    }

    static func byteOrder(_ xs: some Sequence<String>) -> [String] {
        xs.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    @Test(arguments: [1, 2] as [UInt64])
    func postgresEqualsEvaluator(_ seed: UInt64) throws {
        let db = try DifferentialTests.fleet(seed: seed)
        let pg = try Self.copy(db)
        let now = Fixtures.t0 + 3_600_000
        let search = Search(db)
        let states = try db.connection.query("SELECT id FROM thing") { $0.int(0) }.compactMap { try search.thingState($0) }
        #expect(try pg.query("SELECT count(*) FROM thing").first?.int(0) == Int64(states.count))
        var rng = SplitMix64(seed: seed * 7919)
        let plannings: [(String, SQLLowering.Estimator?)] = [("unplanned", nil)] + DifferentialTests.plannings.map { ($0.0, $0.1) }
        var nonEmpty = 0
        for _ in 0..<120 {
            let q = DifferentialTests.randomQuery(&rng)
            let bound = try search.compile(q, at: now).bound
            let oracle = Self.byteOrder(states.filter { Evaluator.evaluate(bound, $0) }.map(\.name))
            for (label, estimate) in plannings {
                let condition = SQLLowering(dialect: PostgresDialect(), estimate: estimate, ordered: estimate != nil).lower(bound)
                do {
                    let got = try Self.names(pg, condition)
                    #expect(got == oracle, "\(q) (\(label)): postgres-only \(Set(got).subtracting(oracle).sorted()) evaluator-only \(Set(oracle).subtracting(got).sorted())\n\(PostgresDialect().text(of: condition))")
                } catch {
                    Issue.record("\(q) (\(label)): \(error)\n\(PostgresDialect().text(of: condition))")
                }
            }
            if !oracle.isEmpty && oracle.count < states.count { nonEmpty += 1 }
        }
        #expect(nonEmpty > 25, "the random queries should select something")
    }
}
