// When the driver prepares a statement: a text run once goes unnamed in one round trip, a
// text run again is prepared once, and a connection keeps a bounded number prepared.
import FleetPostgres
import FleetTestSupport
import Testing

@Suite struct PreparedStatementTests {
    func preparedCount(_ db: PostgresConnection) throws -> Int64 {
        try db.query("SELECT count(*) FROM pg_prepared_statements").first?.int(0) ?? -1
    }

    /// (runs of one text, statements the server holds prepared after them)
    @Test(arguments: [(1, 0), (2, 1), (3, 1), (5, 1)])
    func aTextIsPreparedFromItsSecondRun(runs: Int, prepared: Int64) throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE t (k bigint PRIMARY KEY, v text)")
        for i in 0..<runs {
            #expect(try db.execute("INSERT INTO t VALUES ($1, $2)", [Int64(i), "v\(i)"]) == 1, "run \(i + 1) reports its row")
            let back = try db.query("SELECT v FROM t WHERE k = $1", [Int64(i)]).map { $0.text(0) }
            #expect(back == ["v\(i)"], "run \(i + 1) reads its row")
        }
        // The count's own text runs once here, unnamed; the two texts above are prepared from run 2.
        #expect(try preparedCount(db) == prepared * 2)
    }

    @Test func errorsOnAFirstRunCarrySQLStateLikePreparedOnes() throws {
        let db = try freshDatabase()
        for _ in 1...3 {   // unnamed, then prepared, then by name
            #expect {
                try db.query("SELECT 1 / $1::bigint", [Int64(0)])
            } throws: { e in
                (e as? PostgresError)?.sqlState == "22012"
            }
        }
        // A syntax error is reported on the first run (no separate prepare) with its position.
        #expect {
            try db.query("SELECT * FROM nowhere WHERE")
        } throws: { e in
            (e as? PostgresError)?.sqlState == "42601" && (e as? PostgresError)?.position != nil
        }
    }

    /// Many distinct texts (a long-lived server running generated queries): the prepared
    /// statements stay bounded and every result stays right after the cache is cleared.
    @Test func preparedStatementsStayBounded() throws {
        let db = try freshDatabase()
        for i in 0..<1100 {
            let sql = "SELECT $1::bigint + \(i)"
            for run in 0..<2 {
                #expect(try db.query(sql, [Int64(run)]).first?.int(0) == Int64(i + run))
            }
        }
        let n = try preparedCount(db)
        #expect(n > 0 && n <= 1024, "prepared: \(n)")
    }
}
