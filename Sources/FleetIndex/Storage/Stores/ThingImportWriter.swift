// FleetIndex storage: the bulk writer of `import-things`: the registry's statements prepared
// once for a whole file, the deferral of the thing table's secondary indexes when the
// registry is empty, and the sorted insert of new things' index rows.
import FleetQuery
import FleetSQLite
import FleetStorage

/// A thing as the importer compares it with a line (attributes as stored text).
struct ImportedThingRecord {
    var id: Int64
    var storedAttributes: String
    var type: Int64?

    /// Columns: `id, attributes, type`.
    init(row s: StoreRow) {
        (id, storedAttributes, type) = (s.int(0), s.text(1), s.optionalInt(2))
    }
}

/// Prepared statements for one import (one per connection: they are cached by SQL text).
final class ThingImportWriter {
    let c: StoreConnection
    private static let insertMemberSQL = "INSERT INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertTextSQL = "INSERT INTO thing_text(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertNumberSQL = "INSERT INTO thing_number(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

    private let find, insert, update, member, isMemberStatement, memberships: StoreStatement
    /// Whether the new thing's key is computed from its name (bound first).
    private let keyedByName: Bool

    init(_ c: StoreConnection) throws {
        self.c = c
        find = try c.prepare("SELECT id, attributes, type FROM thing WHERE name = ?")
        keyedByName = c.dialect.nameKey != nil
        insert = try c.prepare(c.keyedInsert(into: "thing", keyColumn: "id", name: "",
                                             columns: "name, name_lower, thing_id, type, attributes, version, created_at",
                                             values: "?, ?, ?, ?, ?, 1, ?", [], suffix: " RETURNING id").0)
        update = try c.prepare("UPDATE thing SET type = ?, attributes = ?, version = version + 1 WHERE id = ?")
        member = try c.prepare(Self.insertMemberSQL)
        isMemberStatement = try c.prepare("SELECT 1 FROM thing_group_member WHERE group_id = ? AND thing = ?")
        memberships = try c.prepare("SELECT count(*) FROM thing_group_member WHERE thing = ?")
    }

    /// Type and static group ids by name.
    func typeIDs() throws -> [String: Int64] {
        var types: [String: Int64] = [:]
        try c.forEach("SELECT name, id FROM thing_type") { types[$0.text(0)] = $0.int(1) }
        return types
    }

    func staticGroupIDs() throws -> [String: Int64] {
        var groups: [String: Int64] = [:]
        try c.forEach("SELECT name, id FROM thing_group WHERE query IS NULL") { groups[$0.text(0)] = $0.int(1) }
        return groups
    }

    func registryIsEmpty() throws -> Bool { try c.scalar("SELECT 1 FROM thing LIMIT 1") == nil }
    func hasClients() throws -> Bool { try c.scalar("SELECT 1 FROM client LIMIT 1") != nil }

    /// Drops the thing table's secondary indexes and returns the statements that build them
    /// again (run by `restoreIndexes` once the rows are in: sorting beats a random insert per row).
    func dropThingIndexes() throws -> [String] {
        guard c.dialect.defersIndexesOnBulkImport else { return [] }
        let indexes = try c.query(c.dialect.secondaryIndexes, ["thing"]) { ($0.text(0), $0.text(1)) }
        var deferred: [String] = []
        for (name, sql) in indexes {
            try c.execute(script: "DROP INDEX \"\(name)\"")  // a name read from the schema, not from input
            deferred.append(sql)
        }
        return deferred
    }

    func restoreIndexes(_ deferred: [String]) throws {
        for sql in deferred { try c.execute(script: sql) }
    }

    func thing(named name: String) throws -> ImportedThingRecord? {
        try find.bind([.text(name)])
        defer { find.reset() }
        return try find.step() ? ImportedThingRecord(row: find.row) : nil
    }

    func insertThing(name: String, thingId: String, type: Int64?, attributes: String, at now: Int64) throws -> Int64 {
        try insert.bind((keyedByName ? [.text(name)] : []) + [.text(name), .text(name.lowercased()), .text(thingId), type.map(SQLiteValue.integer) ?? .null, .text(attributes), .integer(now)])
        defer { insert.reset() }
        _ = try insert.step()
        return insert.row.int(0)
    }

    func updateThing(_ id: Int64, type: Int64?, attributes: String) throws {
        try update.bind([type.map(SQLiteValue.integer) ?? .null, .text(attributes), .integer(id)])
        try update.step()
    }

    /// Adds a membership, not counted; the number of rows added (0 when it was there).
    func addMember(group: Int64, thing: Int64, at now: Int64) throws -> Int {
        try member.bind([.integer(group), .integer(thing), .integer(now)])
        try member.step()
        return c.changes
    }

    func isMember(group: Int64, thing: Int64) throws -> Bool {
        try isMemberStatement.bind([.integer(group), .integer(thing)])
        defer { isMemberStatement.reset() }
        return try isMemberStatement.step()
    }

    func membershipCount(of thing: Int64) throws -> Int64 {
        try memberships.bind([.integer(thing)])
        defer { memberships.reset() }
        _ = try memberships.step()
        return memberships.row.int(0)
    }

    /// Rows of (field, value, thing) into an index table, up to 1,000 per statement (the
    /// statement of a full chunk is one text, prepared once).
    private func insertRows(_ table: StaticString, _ rows: [[SQLiteValue]]) throws {
        let name = table.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        var i = 0
        while i < rows.count {
            let chunk = rows[i..<min(i + 1000, rows.count)]
            let values = Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
            try c.execute("INSERT INTO \(name)(field, value, thing) VALUES \(values) ON CONFLICT DO NOTHING", chunk.flatMap { $0 })
            i += chunk.count
        }
    }

    /// Inserts index rows, already sorted close to the tables' key order.
    func insertIndexRows(fields: [String], text: [(field: Int, value: String, thing: Int64)],
                         number: [(field: Int, value: Double, thing: Int64)]) throws {
        if c.isPostgres {
            // A round trip per row would dominate: many rows per statement instead.
            try insertRows("thing_text", text.map { [.text(fields[$0.field]), .text($0.value), .integer($0.thing)] })
            try insertRows("thing_number", number.map { [.text(fields[$0.field]), .real($0.value), .integer($0.thing)] })
            return
        }
        let t = try c.prepare(Self.insertTextSQL)
        for r in text {
            try t.bind([.text(fields[r.field]), .text(r.value), .integer(r.thing)])
            try t.step()
        }
        let n = try c.prepare(Self.insertNumberSQL)
        for r in number {
            try n.bind([.text(fields[r.field]), .real(r.value), .integer(r.thing)])
            try n.step()
        }
    }
}
