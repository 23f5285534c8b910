// FleetIndex: writes and removes the searchable leaf values of a thing in thing_text,
// thing_number and thing_flag. Rows are keyed (field, value, thing), so removal needs the
// old values, which the engine always has (the thing's attributes and shadow documents).
import FleetQuery
import FleetSQLite

/// The leaf-value tables of the fleet index.
struct FieldStore {
    let c: Connection

    func insert(_ thing: Int64, _ fields: [FieldValue]) throws {
        guard !fields.isEmpty else { return }
        let text = try c.prepare("INSERT OR IGNORE INTO thing_text(field, value, thing) VALUES (?, ?, ?)")
        let number = try c.prepare("INSERT OR IGNORE INTO thing_number(field, value, thing) VALUES (?, ?, ?)")
        let flag = try c.prepare("INSERT OR IGNORE INTO thing_flag(field, value, thing) VALUES (?, ?, ?)")
        for f in fields {
            if let s = f.lower { try text.bind([.text(f.field), .text(s), .integer(thing)]); try text.step() }
            if let n = f.num, n.isFinite { try number.bind([.text(f.field), .real(n), .integer(thing)]); try number.step() }
            if let b = f.flag { try flag.bind([.text(f.field), .integer(b ? 1 : 0), .integer(thing)]); try flag.step() }
        }
    }

    func delete(_ thing: Int64, _ fields: [FieldValue]) throws {
        guard !fields.isEmpty else { return }
        let text = try c.prepare("DELETE FROM thing_text WHERE field = ? AND value = ? AND thing = ?")
        let number = try c.prepare("DELETE FROM thing_number WHERE field = ? AND value = ? AND thing = ?")
        let flag = try c.prepare("DELETE FROM thing_flag WHERE field = ? AND value = ? AND thing = ?")
        for f in fields {
            if let s = f.lower { try text.bind([.text(f.field), .text(s), .integer(thing)]); try text.step() }
            if let n = f.num, n.isFinite { try number.bind([.text(f.field), .real(n), .integer(thing)]); try number.step() }
            if let b = f.flag { try flag.bind([.text(f.field), .integer(b ? 1 : 0), .integer(thing)]); try flag.step() }
        }
    }

    /// Replaces `old` with `new`, touching only what changed.
    func replace(_ thing: Int64, old: [FieldValue], new: [FieldValue]) throws {
        try delete(thing, old.filter { !new.contains($0) })
        try insert(thing, new.filter { !old.contains($0) })
    }
}
