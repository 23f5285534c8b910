// FleetIndex storage: classic and named shadow documents (`shadow`; the classic shadow is the
// one named ""). The leaf values they index are FieldStore's.
import FleetQuery
import FleetSQLite

/// A stored shadow: its document parsed once, when loaded (nil if it does not parse).
struct ShadowRecord {
    var thing: Int64
    var name: String
    var document: JSONValue?
    var version: Int64

    /// Columns: `thing, name, document, version`.
    init(row s: StoreRow) {
        (thing, name, document, version) = (s.int(0), s.text(1), try? JSONValue.parse(s.text(2)), s.int(3))
    }
}

/// Shadow documents.
struct ShadowStore {
    let c: StoreConnection

    func shadow(thing: Int64, name: String) throws -> ShadowRecord? {
        try c.query("SELECT thing, name, document, version FROM shadow WHERE thing = ? AND name = ?", [thing, name], ShadowRecord.init(row:)).first
    }

    /// A shadow's document, parsed (a parse error is thrown); nil when there is no shadow.
    func document(thing: Int64, name: String) throws -> JSONValue? {
        guard let text = try c.scalar("SELECT document FROM shadow WHERE thing = ? AND name = ?", [thing, name])?.string else { return nil }
        return try JSONValue.parse(text)
    }

    /// Every shadow of one thing.
    func shadows(of thing: Int64) throws -> [ShadowRecord] {
        try c.query("SELECT thing, name, document, version FROM shadow WHERE thing = ?", [thing], ShadowRecord.init(row:))
    }

    /// Every shadow of the fleet.
    func allShadows() throws -> [ShadowRecord] {
        try c.query("SELECT thing, name, document, version FROM shadow", [], ShadowRecord.init(row:))
    }

    /// Writes a shadow's document (inserted or replaced).
    func upsert(thing: Int64, name: String, document: String, version: Int64, hasDelta: Bool, at now: Int64) throws {
        try c.execute("""
            INSERT INTO shadow(thing, name, document, version, has_delta, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(thing, name) DO UPDATE SET document = excluded.document, version = excluded.version,
                has_delta = excluded.has_delta, updated_at = excluded.updated_at
            """, [thing, name, document, version, hasDelta, now])
    }

    func delete(thing: Int64, name: String) throws {
        try c.execute("DELETE FROM shadow WHERE thing = ? AND name = ?", [thing, name])
    }

    /// The names of a thing's named shadows after `after`, in name order.
    func namedShadowNames(thing: Int64, after: String, limit: Int) throws -> [String] {
        try c.query("SELECT name FROM shadow WHERE thing = ? AND name > ? AND name <> '' ORDER BY name LIMIT ?",
                    [thing, after, Int64(limit)]) { $0.text(0) }
    }
}
