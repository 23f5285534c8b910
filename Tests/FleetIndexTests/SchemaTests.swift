// The schema: migrations are numbered without gaps, migrating twice changes nothing, and
// the resulting schema matches the reviewed snapshot (RECORD_SNAPSHOTS=1 re-records it and fails).
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Foundation
import Testing

@Suite struct SchemaTests {
    @Test func migrationsAreGapFreeAndIdempotent() throws {
        let m = try FleetDatabase.migrations()
        #expect(m.migrations.map(\.version) == Array(1...m.latestVersion))
        let db = try Fixtures.database()
        #expect(try m.migrate(db.connection.sqlite!) == [])
        #expect(try Migrator.currentVersion(of: db.connection.sqlite!) == m.latestVersion)
    }

    @Test func schemaSnapshot() throws {
        let db = try Fixtures.database()
        let schema = try db.connection.query("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name") {
            $0.text(0) + ";"
        }.joined(separator: "\n") + "\n"
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/schema.sql").path
        guard let expected = try Snapshot.recorded(schema, at: path) else {
            Issue.record("recorded \(path); run again without RECORD_SNAPSHOTS")
            return
        }
        #expect(schema == expected)
    }

    @Test func tablesAreStrictAndIndexesNamedAfterColumns() throws {
        let db = try Fixtures.database()
        let tables = try db.connection.query("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") { ($0.text(0), $0.text(1)) }
        for (name, sql) in tables { #expect(sql.contains("STRICT"), "\(name)") }
        let indexes = try db.connection.query("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%'") { ($0.text(0), $0.text(1)) }
        for (name, table) in indexes { #expect(name.hasPrefix(table + "_"), "\(name) on \(table)") }
    }
}
