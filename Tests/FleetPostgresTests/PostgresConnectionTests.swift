// The libpq driver against a real PostgreSQL 15 (a throwaway cluster, one database per test).
import FleetPostgres
import FleetTestSupport
import Testing

func freshDatabase() throws -> PostgresConnection {
    try PostgresConnection(url: try PostgresCluster.shared().database())
}

@Suite struct PostgresConnectionTests {
    @Test func bindsEveryKindOfValueAndReadsItBack() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE v (i bigint, d double precision, t text, b boolean, n text)")
        let cases: [(Int64, Double, String, Bool)] = [
            (0, 0, "", false), (-1, -1.5, "pump-17", true), (.max, 1e300, "ünïcødé ✓", false),
            (.min, -0.0, "it's \"quoted\" \\ back", true), (42, 3.25, "'; DROP TABLE v; --", false),
        ]
        for c in cases {
            try db.execute("INSERT INTO v VALUES ($1, $2, $3, $4, $5)", [c.0, c.1, c.2, c.3, PostgresValue.null])
        }
        let rows = try db.query("SELECT i, d, t, b, n FROM v ORDER BY i")
        #expect(rows.count == cases.count)
        for (row, c) in zip(rows, cases.sorted { $0.0 < $1.0 }) {
            #expect(row.int(0) == c.0)
            #expect(row.double(1) == c.1)
            #expect(row.text(2) == c.2)
            #expect(row.bool(3) == c.3)
            #expect(row.isNull(4))
            #expect(row.optionalText(4) == nil)
        }
        #expect(try db.query("SELECT count(*) FROM v").first?.int(0) == Int64(cases.count))
    }

    /// Integers are read from libpq's buffer without a String: the same values as Swift's own
    /// parse of the text, for every width and sign, and nil for what is not `-?[0-9]+`, so the
    /// text path still decides (`+5`, fractions, words, the empty text); booleans `t` / `f`.
    @Test func integersAreReadStraightFromTheBuffer() throws {
        let db = try freshDatabase()
        let texts = ["t", "f", "0", "-0", "7", "-1", "42", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                     "-9223372036854775809", "99999999999999999999", "12x", "x12", "+5", "1.5", "", "-", "--1", " 1", "١٢"]
        let rows = try db.query("SELECT v, v = 't', v = 'f' FROM unnest($1::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
                                [PostgresValue.text(PostgresArray.literal(texts))])
        #expect(rows.count == texts.count)
        for (row, t) in zip(rows, texts) {
            let plain = t.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            #expect(row.integer(0) == (plain ? Int64(t) : nil), "\(t)")
            #expect(row.int(0) == Int64(t) ?? 0, "\(t)")
            #expect(row.bool(1) == (t == "t"), "\(t)")
            #expect(row.bool(2) == (t == "f"), "\(t)")
        }
        let cells = try db.query("SELECT true, false, NULL::boolean, NULL::bigint, '007'::text")
        #expect(cells[0].bool(0))
        #expect(!cells[0].bool(1))
        #expect(!cells[0].bool(2))
        #expect(cells[0].integer(3) == nil)
        #expect(cells[0].int(3) == 0)
        #expect(cells[0].integer(4) == 7)
    }

    @Test func arraysBindForAnyAndUnnest() throws {
        let db = try freshDatabase()
        let ids: [Int64] = [3, 1, 2, .max]
        let got = try db.query("SELECT x FROM unnest($1::bigint[]) AS x ORDER BY x", [PostgresValue.ints(ids)]).map { $0.int(0) }
        #expect(got == ids.sorted())
        let names = ["a", "b,c", "d\"e", "f\\g", "{h}", "NULL", ""]
        let back = try db.query("SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [PostgresValue.texts(names)]).map { $0.text(0) }
        #expect(back == names)
        #expect(try db.query("SELECT 2 = ANY($1::bigint[])", [PostgresValue.ints(ids)]).first?.bool(0) == true)
    }

    @Test func errorsCarrySQLStateAndPosition() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE u (k text PRIMARY KEY)")
        try db.execute("INSERT INTO u VALUES ($1)", ["x"])
        let table: [(String, [any PostgresBindable], String)] = [
            ("INSERT INTO u VALUES ($1)", ["x"], "23505"),
            ("SELEC 1", [], "42601"),
            ("SELECT * FROM missing_table", [], "42P01"),
            ("SELECT $1::bigint", ["not a number"], "22P02"),
        ]
        for (sql, binds, state) in table {
            do {
                try db.execute(sql, binds)
                Issue.record("\(sql) did not fail")
            } catch {
                #expect(error.sqlState == state, "\(sql): \(error)")
                #expect(error.sql == sql)
            }
        }
        do {
            try db.execute("SELEC 1")
        } catch {
            #expect(error.position == 1)
        }
        // The connection is usable after each error.
        #expect(try db.query("SELECT count(*) FROM u").first?.int(0) == 1)
    }

    @Test func aNulByteIsRefusedNotTruncated() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE n (t text)")
        #expect(throws: PostgresError.self) { try db.execute("INSERT INTO n VALUES ($1)", ["a\u{0}b"]) }
        #expect(try db.query("SELECT count(*) FROM n").first?.int(0) == 0)
    }

    @Test func transactionsCommitOrRollBackWhole() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE t (k bigint PRIMARY KEY)")
        struct Stop: Error {}
        _ = try? db.transaction {
            try db.execute("INSERT INTO t VALUES (1)")
            throw Stop()
        }
        #expect(try db.query("SELECT count(*) FROM t").first?.int(0) == 0)
        try db.transaction {
            try db.execute("INSERT INTO t VALUES (1)")
            _ = try? db.transaction {
                try db.execute("INSERT INTO t VALUES (2)")
                try db.execute("INSERT INTO t VALUES (1)")   // unique violation: the savepoint rolls back
            }
            try db.execute("INSERT INTO t VALUES (3)")
        }
        #expect(try db.query("SELECT k FROM t ORDER BY k").map { $0.int(0) } == [1, 3])
        #expect(!db.isInTransaction)
    }

    @Test func aBadURLSaysWhyWithoutThePassword() throws {
        let cluster = try PostgresCluster.shared()
        _ = cluster
        do {
            _ = try PostgresConnection(url: "postgres://fleetdex:hunter2@127.0.0.1:1/none?connect_timeout=2")
            Issue.record("connected to port 1")
        } catch {
            #expect(error.sqlState == "08001")
            #expect(!error.message.contains("hunter2"))
            #expect(error.message.contains("postgres://fleetdex:***@127.0.0.1:1/none"))
        }
        let table: [(String, String)] = [
            ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u@h/db?password=pw&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"),
            ("host=h user=u password=pw dbname=db", "host=h user=u password=*** dbname=db"),
            ("postgres://h/db", "postgres://h/db"),
        ]
        for (given, shown) in table { #expect(PostgresConnection.redacted(given) == shown) }
        #expect(PostgresConnection.isURL("postgresql://h/db"))
        #expect(!PostgresConnection.isURL("fleet.sqlite"))
    }
}
