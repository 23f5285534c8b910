// FleetIndex: writes and removes the searchable leaf values of a thing in thing_text,
// thing_number and thing_flag. Rows are keyed (field, value, thing), so removal needs the
// old values, which the engine always has (the thing's attributes and shadow documents).
import FleetQuery
import FleetSQLite
import FleetStorage

/// The leaf-value tables of the fleet index.
struct FieldStore {
    let c: StoreConnection
    private static let insertText = "INSERT INTO thing_text(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertNumber = "INSERT INTO thing_number(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    private static let insertFlag = "INSERT INTO thing_flag(field, value, thing) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

    func insert(_ thing: Int64, _ fields: [FieldValue]) throws {
        try forEachRow(thing, fields,
                       text: Self.insertText, number: Self.insertNumber, flag: Self.insertFlag)
    }

    func delete(_ thing: Int64, _ fields: [FieldValue]) throws {
        try forEachRow(thing, fields,
                       text: "DELETE FROM thing_text WHERE field = ? AND value = ? AND thing = ?",
                       number: "DELETE FROM thing_number WHERE field = ? AND value = ? AND thing = ?",
                       flag: "DELETE FROM thing_flag WHERE field = ? AND value = ? AND thing = ?")
    }

    /// Runs, for each stored row of `fields` (a text, number and flag row per value, as it
    /// has them), the statement of its table, bound to (field, value, thing).
    private func forEachRow(_ thing: Int64, _ fields: [FieldValue], text: String, number: String, flag: String) throws {
        guard !fields.isEmpty else { return }
        let statements = (text: try c.prepare(text), number: try c.prepare(number), flag: try c.prepare(flag))
        func run(_ s: StoreStatement, _ field: String, _ value: SQLiteValue) throws {
            try s.bind([.text(field), value, .integer(thing)])
            try s.step()
        }
        for f in fields {
            if let s = f.lower { try run(statements.text, f.field, .text(s)) }
            if let n = f.num, n.isFinite { try run(statements.number, f.field, .real(n)) }
            if let b = f.flag { try run(statements.flag, f.field, .integer(b ? 1 : 0)) }
        }
    }

    /// Replaces `old` with `new`, touching only what changed.
    func replace(_ thing: Int64, old: [FieldValue], new: [FieldValue]) throws {
        try delete(thing, old.filter { !new.contains($0) })
        try insert(thing, new.filter { !old.contains($0) })
    }

    /// Removes every indexed shadow value (before the shadows are indexed again).
    func deleteShadowFields() throws {
        try c.execute("DELETE FROM thing_text WHERE field >= 'shadow.' AND field < 'shadow/'")
        try c.execute("DELETE FROM thing_number WHERE field >= 'shadow.' AND field < 'shadow/'")
        try c.execute("DELETE FROM thing_flag WHERE field >= 'shadow.' AND field < 'shadow/'")
    }
}
