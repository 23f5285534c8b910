// The PostgreSQL schema checked against the rules Citus sets for the layout in CitusLayout:
// every table placed once; distribution columns present, of one type per colocation group,
// in every primary and unique key; foreign keys only where Citus allows them; identity
// columns bigint; the calls in an order Citus accepts, and in the README.
import FleetPostgres
import FleetTestSupport
import Foundation
import Testing

@Suite struct CitusLayoutTests {
    /// A migrated database (the schema the rules are read from).
    func migrated() throws -> PostgresConnection {
        let db = try freshDatabase()
        try PostgresMigrator().migrate(db)
        return db
    }

    func columns(_ db: PostgresConnection, _ table: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try db.query("""
            SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
            """, [table]) { out[r.text(0)] = r.text(1) }
        return out
    }

    @Test func everyTableIsPlacedExactlyOnce() throws {
        let db = try migrated()
        let tables = Set(try db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").map { $0.text(0) })
        let placed = CitusLayout.reference + CitusLayout.distributed.map(\.table) + CitusLayout.local
        #expect(Set(placed).count == placed.count, "a table is placed twice")
        #expect(Set(placed) == tables, "unplaced: \(tables.subtracting(placed)); placed but absent: \(Set(placed).subtracting(tables))")
    }

    @Test func distributionColumnsExistWithOneTypePerGroup() throws {
        let db = try migrated()
        var groupType: [String: String] = [:]
        for d in CitusLayout.distributed {
            let cols = try columns(db, d.table)
            guard let type = cols[d.column] else {
                Issue.record("\(d.table) has no column \(d.column)")
                continue
            }
            if let first = d.colocateWith {
                #expect(CitusLayout.distributed.contains { $0.table == first && $0.colocateWith == nil },
                        "\(d.table) is colocated with \(first), which does not start a group")
            }
            let group = CitusLayout.group(of: d.table)!
            if let t = groupType[group] {
                #expect(t == type, "\(d.table).\(d.column) is \(type), its group \(group) is \(t)")
            } else {
                groupType[group] = type
            }
        }
    }

    @Test func everyUniqueKeyOfADistributedTableHoldsItsDistributionColumn() throws {
        let db = try migrated()
        for d in CitusLayout.distributed {
            let keys = try db.query("""
                SELECT i.indexrelid::regclass::text,
                       array_to_string(array(SELECT a.attname FROM unnest(i.indkey[0:i.indnkeyatts - 1]) AS k
                           JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k), ',')
                FROM pg_index AS i WHERE i.indrelid = $1::regclass AND (i.indisunique OR i.indisprimary)
                """, [d.table])
            #expect(!keys.isEmpty, "\(d.table) has no primary key")
            for k in keys {
                let cols = k.text(1).split(separator: ",").map(String.init)
                #expect(cols.contains(d.column), "\(d.table): the unique key \(k.text(0)) (\(cols)) lacks \(d.column)")
            }
        }
    }

    @Test func foreignKeysAreOnesCitusAllows() throws {
        let db = try migrated()
        let reference = Set(CitusLayout.reference)
        let fks = try db.query("""
            SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                   array_to_string(array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ','),
                   array_to_string(array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ',')
            FROM pg_constraint AS c JOIN pg_namespace AS s ON s.oid = c.connamespace
            WHERE c.contype = 'f' AND s.nspname = 'public'
            """)
        #expect(fks.count > 10)
        for fk in fks {
            let (name, from, to) = (fk.text(0), fk.text(1), fk.text(2))
            let fromCols = fk.text(3).split(separator: ",").map(String.init)
            let toCols = fk.text(4).split(separator: ",").map(String.init)
            if reference.contains(to) { continue }   // anything may reference a reference table
            #expect(!reference.contains(from), "\(name): the reference table \(from) references the distributed \(to)")
            guard let f = CitusLayout.distributed.first(where: { $0.table == from }),
                  let t = CitusLayout.distributed.first(where: { $0.table == to }) else {
                Issue.record("\(name): \(from) → \(to) involves a local table")
                continue
            }
            #expect(CitusLayout.group(of: from) == CitusLayout.group(of: to), "\(name): \(from) and \(to) are not colocated")
            let i = fromCols.firstIndex(of: f.column)
            #expect(i != nil && toCols[i!] == t.column,
                    "\(name): \(from)(\(fromCols)) → \(to)(\(toCols)) does not join \(f.column) to \(t.column)")
        }
    }

    @Test func identityColumnsAreBigint() throws {
        let db = try migrated()
        let rows = try db.query("""
            SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod) FROM pg_attribute AS a
            JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS s ON s.oid = c.relnamespace
            WHERE s.nspname = 'public' AND a.attidentity <> ''
            """)
        #expect(rows.count > 5)
        for r in rows { #expect(r.text(2) == "bigint", "\(r.text(0)).\(r.text(1)) is \(r.text(2))") }
    }

    @Test func theCallsComeInAnOrderCitusAcceptsAndTheREADMEListsThem() throws {
        let db = try migrated()
        // A table is placed after every table it references.
        let order = CitusLayout.reference + CitusLayout.distributed.map(\.table)
        let fks = try db.query("""
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint AS c
            WHERE c.contype = 'f' AND c.conrelid <> c.confrelid
            """)
        for fk in fks {
            guard let a = order.firstIndex(of: fk.text(0)), let b = order.firstIndex(of: fk.text(1)) else { continue }
            #expect(b < a, "\(fk.text(0)) is placed before \(fk.text(1)), which it references")
        }
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let missing = CitusLayout.statements.filter { !text.contains($0) }
        #expect(missing.isEmpty, "README.md lacks \(missing)")
    }
}
