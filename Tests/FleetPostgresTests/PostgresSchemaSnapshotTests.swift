// The PostgreSQL schema as migrated, read back from the catalogs (tables with their columns,
// types, nullability and defaults; constraints; indexes) and compared with a recorded snapshot,
// as SchemaTests does for SQLite: a migration that changes the schema changes this file in
// the same commit. `RECORD_SNAPSHOTS=1 swift test --filter postgresSchemaSnapshot` re-records
// it (and fails, so a recording is never mistaken for a pass).
import FleetPostgres
import FleetTestSupport
import Foundation
import Testing

@Suite struct PostgresSchemaSnapshotTests {
    /// The schema in a stable text form, one line per column, constraint and index.
    static func describe(_ db: PostgresConnection) throws -> String {
        var lines: [String] = []
        let tables = try db.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").map { $0.text(0) }
        for table in tables where table != "fleetdex_schema" {
            lines.append("table \(table)")
            // Storage parameters (fillfactor), when a migration set any.
            if let options = try db.query("SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = $1::regclass AND reloptions IS NOT NULL",
                                          [table]).first {
                lines.append("  with (\(options.text(0)))")
            }
            for r in try db.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
                       a.attidentity, coalesce(c.collname, '')
                FROM pg_attribute AS a LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                LEFT JOIN pg_collation AS c ON c.oid = a.attcollation AND c.collname <> 'default'
                WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
                """, [table]) {
                var line = "  column \(r.text(0)) \(r.text(1))"
                if !r.text(5).isEmpty { line += " collate \(r.text(5))" }
                if r.bool(2) { line += " not null" }
                if !r.text(4).isEmpty { line += " identity \(r.text(4))" }
                if !r.text(3).isEmpty { line += " default \(r.text(3))" }
                lines.append(line)
            }
            for r in try db.query("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname", [table]) {
                lines.append("  constraint \(r.text(0)) \(r.text(1))")
            }
            for r in try db.query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname", [table]) {
                lines.append("  index \(r.text(0)): \(r.text(1).replacingOccurrences(of: "public.", with: ""))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func postgresSchemaSnapshot() throws {
        let db = try PostgresConnection(url: try PostgresCluster.shared().database())
        try PostgresMigrator().migrate(db)
        let schema = try Self.describe(db)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/schema-postgres.txt").path
        guard let expected = try Snapshot.recorded(schema, at: path) else {
            Issue.record("recorded \(path); run again without RECORD_SNAPSHOTS")
            return
        }
        #expect(schema == expected)
    }
}
