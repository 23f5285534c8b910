// The SQLite wrapper: binds round-trip, errors carry SQL and offset, transactions roll
// back, the migrator is gap-free, idempotent and atomic.
import FleetSQLite
import Testing

@Suite struct ConnectionTests {
    @Test(arguments: [SQLiteValue.null, .integer(-42), .integer(Int64.max), .real(2.5), .text("héllo ' \"x\""), .blob([0, 1, 255])])
    func bindsRoundTrip(_ v: SQLiteValue) throws {
        let db = try Connection(path: ":memory:")
        #expect(try db.scalar("SELECT ?", [v]) == v)
    }

    @Test func errorsCarryTheSQLAndOffset() throws {
        let db = try Connection(path: ":memory:")
        let e = try #require(throws: SQLiteError.self) { try db.execute("SELECT nope FROM sqlite_schema") }
        #expect(e.offset == 7)
        #expect(e.sql == "SELECT nope FROM sqlite_schema")
        #expect(e.message.contains("no such column"))
    }

    /// Generated SQL's statements are reused for the same text (with the new values), at most
    /// `generatedLimit` texts are kept, and `totalChanges` counts this connection's writes.
    @Test func generatedStatementsAreKeptBounded() throws {
        let db = try Connection(path: ":memory:")
        try db.execute(script: "CREATE TABLE t(x INTEGER) STRICT; INSERT INTO t VALUES (1), (2), (3)")
        #expect(db.totalChanges == 3)
        let sql = "SELECT count(*) FROM t WHERE x >= ?"
        let a = try db.prepareGenerated(sql)
        try a.bind([.integer(2)])
        #expect(try a.step() && a.int(0) == 2)
        let b = try db.prepareGenerated(sql)
        #expect(a === b)
        try b.bind([.integer(3)])
        #expect(try b.step() && b.int(0) == 1)
        for i in 0..<Connection.generatedLimit { _ = try db.prepareGenerated("SELECT \(i)") }
        #expect(try db.prepareGenerated(sql) !== a)
    }

    @Test func wrongArgumentCountIsAnError() throws {
        let db = try Connection(path: ":memory:")
        #expect(throws: SQLiteError.self) { try db.execute("SELECT ?, ?", [1]) }
    }

    @Test func transactionsRollBackOnError() throws {
        let db = try Connection(path: ":memory:")
        try db.execute(script: "CREATE TABLE t(x INTEGER) STRICT")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(try db.scalar("SELECT count(*) FROM t")?.int == 0)
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        #expect(try db.scalar("SELECT count(*) FROM t")?.int == 1)
        #expect(db.busyStatementCount == 0)
    }

    @Test func migratorAppliesInOrderOnce() throws {
        let db = try Connection(path: ":memory:")
        let m = try Migrator([Migration(version: 2, name: "b", sql: "ALTER TABLE a ADD COLUMN y INTEGER;"),
                              Migration(version: 1, name: "a", sql: "CREATE TABLE a(x INTEGER) STRICT;")])
        #expect(try m.migrate(db) == [1, 2])
        #expect(try m.migrate(db) == [])
        #expect(try Migrator.currentVersion(of: db) == 2)
    }

    @Test func migratorRejectsGaps() {
        #expect(throws: MigrationError.gap(expected: 2, found: 3)) {
            try Migrator([Migration(version: 1, name: "a", sql: ""), Migration(version: 3, name: "c", sql: "")])
        }
    }

    @Test func failingMigrationLeavesTheVersion() throws {
        let db = try Connection(path: ":memory:")
        let good = try Migrator([Migration(version: 1, name: "a", sql: "CREATE TABLE a(x INTEGER) STRICT;")])
        try good.migrate(db)
        let bad = try Migrator(good.migrations + [Migration(version: 2, name: "bad", sql: "CREATE TABLE b(y INTEGER); SELECT nope;")])
        #expect(throws: MigrationError.self) { try bad.migrate(db) }
        #expect(try Migrator.currentVersion(of: db) == 1)
        #expect(try db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'b'")?.int == 0)
    }

    @Test func newerDatabaseIsRefused() throws {
        let db = try Connection(path: ":memory:")
        try db.execute(script: "PRAGMA user_version = 9")
        let m = try Migrator([Migration(version: 1, name: "a", sql: "")])
        #expect(throws: MigrationError.databaseNewer(database: 9, binary: 1)) { try m.migrate(db) }
    }

    @Test func migrationFileNames() {
        #expect(Migration(fileName: "0003_presence.sql", sql: "x") == Migration(version: 3, name: "presence", sql: "x"))
        #expect(Migration(fileName: "3_presence.sql", sql: "x") == nil)
    }
}
