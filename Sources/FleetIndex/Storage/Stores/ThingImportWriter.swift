// FleetIndex storage: the bulk writer of `import-things`: the registry's statements prepared
// once for a whole file, the deferral of the thing table's secondary indexes when the
// registry is empty, and the sorted insert of new things' index rows.
// On PostgreSQL, where a statement is a round trip, a batch of lines is written set-based
// instead (`PostgresImportBuffer`): its things looked up and their keys computed in one query,
// new things, memberships and shadows sent with COPY when the batch ends, index rows with
// COPY (into empty index tables) or one INSERT … SELECT FROM unnest(arrays) per table.
import FleetPostgres
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

    init(id: Int64, storedAttributes: String, type: Int64?) {
        (self.id, self.storedAttributes, self.type) = (id, storedAttributes, type)
    }
}

/// Prepared statements for one import (one per connection: they are cached by SQL text).
final class ThingImportWriter {
    let c: StoreConnection
    let db: FleetDatabase
    /// PostgreSQL's batch state (nil on SQLite, which runs each statement as it comes).
    private let buffer: PostgresImportBuffer?
    private static let insertMemberSQL = "INSERT INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertTextSQL = "INSERT INTO thing_text(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertNumberSQL = "INSERT INTO thing_number(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

    private let find, insert, update, member, isMemberStatement, memberships: StoreStatement
    /// Whether the new thing's key is computed from its name (bound first).
    private let keyedByName: Bool

    init(_ db: FleetDatabase) throws {
        self.db = db
        let c = db.connection
        self.c = c
        buffer = c.postgres.map { PostgresImportBuffer($0, connection: c) }
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
        if let buffer, let known = buffer.records[name] { return known }
        try find.bind([.text(name)])
        defer { find.reset() }
        return try find.step() ? ImportedThingRecord(row: find.row) : nil
    }

    func insertThing(name: String, thingId: String, type: Int64?, attributes: String, at now: Int64) throws -> Int64 {
        if let buffer, let id = try buffer.insert(name: name, thingId: thingId, type: type, attributes: attributes, at: now) { return id }
        try insert.bind((keyedByName ? [.text(name)] : []) + [.text(name), .text(name.lowercased()), .text(thingId), type.map(SQLiteValue.integer) ?? .null, .text(attributes), .integer(now)])
        defer { insert.reset() }
        _ = try insert.step()
        return insert.row.int(0)
    }

    /// Changes a stored thing (on PostgreSQL, not one held in the batch: `flush` first).
    func updateThing(_ id: Int64, name: String, type: Int64?, attributes: String) throws {
        try update.bind([type.map(SQLiteValue.integer) ?? .null, .text(attributes), .integer(id)])
        try update.step()
        if let buffer, buffer.records[name] != nil {
            buffer.records[name] = ImportedThingRecord(id: id, storedAttributes: attributes, type: type)
        }
    }

    /// Adds a membership, not counted; the number of rows added (0 when it was there).
    func addMember(group: Int64, thing: Int64, at now: Int64) throws -> Int {
        if let buffer, let n = buffer.addMember(group: group, thing: thing, at: now) { return n }
        try member.bind([.integer(group), .integer(thing), .integer(now)])
        try member.step()
        return c.changes
    }

    func isMember(group: Int64, thing: Int64) throws -> Bool {
        if let buffer, let groups = buffer.memberships[thing] { return groups.contains(group) }
        try isMemberStatement.bind([.integer(group), .integer(thing)])
        defer { isMemberStatement.reset() }
        return try isMemberStatement.step()
    }

    func membershipCount(of thing: Int64) throws -> Int64 {
        if let buffer, let groups = buffer.memberships[thing] { return Int64(groups.count) }
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
        if let buffer, buffer.indexTablesWereEmpty {
            try buffer.copyIndexRows(fields: fields, text: text, number: number)
            return
        }
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

extension ThingImportWriter {
    // MARK: the batch (PostgreSQL; on SQLite each call does its work at once)

    /// Lines read and parsed ahead and looked up together: 1,000 on PostgreSQL; 1 on SQLite,
    /// whose statements run as each line comes (reading ahead measured a few % slower there).
    var batchLines: Int { buffer == nil ? 1 : 1000 }

    /// New things' index rows held before they are written, sorted, as one chunk. PostgreSQL
    /// into empty index tables: 2,000,000 (about 70 MB; one sorted COPY appends at the B-tree's
    /// right edge, where each later chunk lands all over the tree: 1,000,000 rows went in
    /// 2x faster as one chunk than as five). Otherwise 200,000.
    var pendingRowLimit: Int { buffer?.indexTablesWereEmpty == true ? 2_000_000 : 200_000 }

    /// Called once inside the import's transaction, before the first line.
    func begin() throws {
        try buffer?.begin(tracksChanges: db.tracksChanges)
    }

    /// Reads, for the names of the next batch of lines, their things and new keys at once.
    func prefetch(names: [String]) throws {
        try buffer?.prefetch(names: names)
    }

    /// Whether the thing has rows or work held in the batch (written by `flush`).
    func holds(_ thing: Int64) -> Bool {
        buffer?.held.contains(thing) ?? false
    }

    /// Notes that a thing's searchable state changed (dynamic groups re-check it).
    func touch(_ thing: Int64) throws {
        guard let buffer else { return try db.touch(thing) }
        buffer.touch(thing)
    }

    /// Runs `work`, which needs the rows of a thing the batch `holds`, once they are stored.
    func whenStored(_ thing: Int64, _ work: @escaping () throws -> Void) {
        precondition(holds(thing), "whenStored for a thing the batch does not hold")
        buffer?.queued.append(work)
    }

    /// Holds the classic shadow of a new thing the batch holds (its row and index rows are
    /// written with the thing's), and touches the thing.
    func holdShadow(thing: Int64, _ shadow: FirstShadow, at now: Int64) throws {
        precondition(holds(thing), "holdShadow for a thing the batch does not hold")
        buffer?.holdShadow(thing: thing, shadow, at: now)
    }

    /// Writes what the batch holds: new things, then their memberships, shadows and touches,
    /// then the work that waited for their rows.
    func flush() throws {
        try buffer?.flush()
    }

    /// Ends a batch of lines: `flush`, and the batch's lookups are forgotten.
    func endBatch() throws {
        guard let buffer else { return }
        try buffer.flush()
        buffer.records.removeAll(keepingCapacity: true)
        buffer.keys.removeAll(keepingCapacity: true)
        buffer.memberships.removeAll(keepingCapacity: true)
    }
}

/// PostgreSQL's state of one import between two flushes: the batch's things by name (as
/// stored, or as this batch made them), the keys of its new names, the new things and
/// memberships not yet sent, the memberships of the batch's things, the things touched.
final class PostgresImportBuffer {
    let pg: PostgresConnection
    unowned let c: StoreConnection
    /// The batch's things by name (nil: no such thing); a name not here is looked up.
    var records: [String: ImportedThingRecord?] = [:]
    /// The key a new thing of each of the batch's names gets.
    var keys: [String: Int64] = [:]
    /// The group ids of each of the batch's things (complete: read, plus those added since).
    var memberships: [Int64: Set<Int64>] = [:]
    /// Things with rows or work not yet written.
    var held: Set<Int64> = []
    var queued: [() throws -> Void] = []
    private var things: [(id: Int64, name: String, thingId: String, type: Int64?, attributes: String, at: Int64)] = []
    private var members: [(group: Int64, thing: Int64, at: Int64)] = []
    private var touched: [Int64] = []
    private var shadows: [(thing: Int64, document: String, hasDelta: Bool, at: Int64)] = []
    /// The index rows of held shadows, as PostgreSQL parameter text (field, value, thing).
    private var shadowRows: (text: ShadowRows, number: ShadowRows, flag: ShadowRows) = (ShadowRows(), ShadowRows(), ShadowRows())
    private var tracksChanges = true
    /// Whether thing_text and thing_number were empty when the import began: then no index row
    /// of a new thing can be there already, and they go with COPY (no ON CONFLICT needed).
    private(set) var indexTablesWereEmpty = false

    private static let thingColumns = ["id", "name", "name_lower", "thing_id", "type", "attributes", "version", "created_at"]
    private static let memberColumns = ["group_id", "thing", "added_at"]
    private static let indexColumns = ["field", "value", "thing"]
    private static let shadowColumns = ["thing", "name", "document", "version", "has_delta", "updated_at"]
    /// Index rows of new shadows: ON CONFLICT DO NOTHING as FieldStore's (a document can name
    /// one value twice, as an array's elements).
    private static let shadowTextSQL = "INSERT INTO thing_text(field, value, thing) SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[]) ON CONFLICT DO NOTHING"
    private static let shadowNumberSQL = "INSERT INTO thing_number(field, value, thing) SELECT * FROM unnest(?::text[], ?::float8[], ?::bigint[]) ON CONFLICT DO NOTHING"
    private static let shadowFlagSQL = "INSERT INTO thing_flag(field, value, thing) SELECT * FROM unnest(?::text[], ?::boolean[], ?::bigint[]) ON CONFLICT DO NOTHING"
    private static let membershipsSQL = "SELECT thing, group_id FROM thing_group_member WHERE thing = ANY(?::bigint[])"

    init(_ pg: PostgresConnection, connection: StoreConnection) {
        self.pg = pg
        c = connection
    }

    func begin(tracksChanges: Bool) throws {
        // The import holds the fleet's write lock: no other writer can create a dynamic group
        // (nor this import, which makes static ones) before it ends.
        self.tracksChanges = tracksChanges
        indexTablesWereEmpty = try c.scalar("SELECT 1 FROM thing_text LIMIT 1") == nil
            && c.scalar("SELECT 1 FROM thing_number LIMIT 1") == nil
    }

    private var prefetchSQL: String {
        let key = c.dialect.nameKey(of: "u.name") ?? "NULL"
        // A probe of the name index per name (LATERAL): a join the planner may hash, reading
        // the whole thing table (not analyzed yet while a bulk import fills it) once a batch.
        return "SELECT u.name, \(key), t.id, t.attributes, t.type FROM unnest(?::text[]) AS u(name)"
            + " LEFT JOIN LATERAL (SELECT id, attributes, type FROM thing WHERE name = u.name) t ON true"
    }

    func prefetch(names: [String]) throws {
        guard !names.isEmpty else { return }
        var existing: [Int64] = []
        try c.forEach(prefetchSQL, [PostgresArray.literal(names)]) { r in
            let name = r.text(0)
            keys[name] = r.int(1)
            if r.isNull(2) {
                if records[name] == nil { records[name] = .some(nil) }
            } else {
                let record = ImportedThingRecord(id: r.int(2), storedAttributes: r.text(3), type: r.optionalInt(4))
                records[name] = record
                existing.append(record.id)
            }
        }
        guard !existing.isEmpty else { return }
        for id in existing where memberships[id] == nil { memberships[id] = [] }
        try c.forEach(Self.membershipsSQL, [PostgresArray.literal(existing)]) { r in
            memberships[r.int(0), default: []].insert(r.int(1))
        }
    }

    /// Holds a new thing; its key, or nil for a name that was not prefetched.
    func insert(name: String, thingId: String, type: Int64?, attributes: String, at now: Int64) throws -> Int64? {
        guard let id = keys[name] else { return nil }
        things.append((id, name, thingId, type, attributes, now))
        held.insert(id)
        records[name] = ImportedThingRecord(id: id, storedAttributes: attributes, type: type)
        memberships[id] = []
        return id
    }

    /// Holds a membership of a thing of the batch: 1, or 0 when it is a member already; nil
    /// for a thing outside the batch (then the statement runs).
    func addMember(group: Int64, thing: Int64, at now: Int64) -> Int? {
        guard memberships[thing] != nil else { return nil }
        guard memberships[thing]!.insert(group).inserted else { return 0 }
        members.append((group, thing, now))
        held.insert(thing)
        return 1
    }

    func touch(_ thing: Int64) {
        if tracksChanges { touched.append(thing) }
    }

    /// Index rows of one table as three parallel arrays (bound as arrays, unnested).
    struct ShadowRows {
        var fields: [String] = []
        var values: [String] = []
        var things: [Int64] = []
        mutating func append(_ field: String, _ value: String, _ thing: Int64) {
            fields.append(field)
            values.append(value)
            things.append(thing)
        }
        mutating func removeAll() {
            fields.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            things.removeAll(keepingCapacity: true)
        }
    }

    func holdShadow(thing: Int64, _ shadow: FirstShadow, at now: Int64) {
        shadows.append((thing, shadow.document, shadow.hasDelta, now))
        // The rows FieldStore.insert writes: text, finite number and flag of each value.
        for f in shadow.fields {
            if let s = f.lower { shadowRows.text.append(f.field, s, thing) }
            if let n = f.num, n.isFinite { shadowRows.number.append(f.field, PostgresDialect.parameterText(.real(n)), thing) }
            if let b = f.flag { shadowRows.flag.append(f.field, b ? "t" : "f", thing) }
        }
        touch(thing)
    }

    func flush() throws {
        try pg.copy(into: "thing", columns: Self.thingColumns, rows: things) { e, t in
            e.append(int: t.id)
            try e.append(text: t.name)
            try e.append(text: t.name.lowercased())
            try e.append(text: t.thingId)
            if let type = t.type { e.append(int: type) } else { e.appendNull() }
            try e.append(text: t.attributes)
            e.append(int: 1)
            e.append(int: t.at)
        }
        things.removeAll(keepingCapacity: true)
        try pg.copy(into: "thing_group_member", columns: Self.memberColumns, rows: members) { e, m in
            e.append(int: m.group)
            e.append(int: m.thing)
            e.append(int: m.at)
        }
        members.removeAll(keepingCapacity: true)
        if !shadows.isEmpty {
            try pg.copy(into: "shadow", columns: Self.shadowColumns, rows: shadows) { e, h in
                e.append(int: h.thing)
                try e.append(text: "")
                try e.append(text: h.document)
                e.append(int: 1)
                try e.append(text: h.hasDelta ? "t" : "f")
                e.append(int: h.at)
            }
            shadows.removeAll(keepingCapacity: true)
            for (rows, sql) in [(shadowRows.text, Self.shadowTextSQL), (shadowRows.number, Self.shadowNumberSQL), (shadowRows.flag, Self.shadowFlagSQL)]
            where !rows.things.isEmpty {
                try c.execute(sql, [PostgresArray.literal(rows.fields), PostgresArray.literal(rows.values), PostgresArray.literal(rows.things)])
            }
            shadowRows.text.removeAll()
            shadowRows.number.removeAll()
            shadowRows.flag.removeAll()
        }
        if !touched.isEmpty {
            try DynamicGroupStore(c: c).touch(touched)
            touched.removeAll(keepingCapacity: true)
        }
        held.removeAll(keepingCapacity: true)
        let work = queued
        queued.removeAll()
        for w in work { try w() }
    }

    /// New things' index rows (sorted by key) with COPY; a row twice is sent once.
    func copyIndexRows(fields: [String], text: [(field: Int, value: String, thing: Int64)],
                       number: [(field: Int, value: Double, thing: Int64)]) throws {
        let texts = Self.adjacentUnique(text) { $0.field == $1.field && $0.thing == $1.thing && $0.value.utf8.elementsEqual($1.value.utf8) }
        try pg.copy(into: "thing_text", columns: Self.indexColumns, rows: texts) { e, r in
            try e.append(text: fields[r.field])
            try e.append(text: r.value)
            e.append(int: r.thing)
        }
        let numbers = Self.adjacentUnique(number) { $0.field == $1.field && $0.thing == $1.thing && $0.value == $1.value }
        try pg.copy(into: "thing_number", columns: Self.indexColumns, rows: numbers) { e, r in
            try e.append(text: fields[r.field])
            e.append(double: r.value)
            e.append(int: r.thing)
        }
    }

    /// `rows` without a row equal to the one before it (sorted rows: without duplicates).
    static func adjacentUnique<Row>(_ rows: [Row], _ same: (Row, Row) -> Bool) -> [Row] {
        var out: [Row] = []
        out.reserveCapacity(rows.count)
        for r in rows where out.last.map({ !same($0, r) }) ?? true { out.append(r) }
        return out
    }
}
