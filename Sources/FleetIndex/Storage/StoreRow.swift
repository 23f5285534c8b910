// FleetIndex storage: one result row, read alike from either engine. SQLite hands typed
// columns; PostgreSQL's text format is read by the column's type (booleans `t`/`f` read as
// the integers 1/0 SQLite stores flags as, so a store reads a flag one way on both).
import FleetPostgres
import FleetSQLite

/// A row of a store's query (valid only inside the closure it is passed to).
public struct StoreRow {
    enum Source {
        case sqlite(Statement)
        case postgres(PostgresRow)
    }
    let source: Source

    public func isNull(_ i: Int) -> Bool {
        switch source {
        case .sqlite(let s): s.isNull(i)
        case .postgres(let r): r.isNull(i)
        }
    }

    public func int(_ i: Int) -> Int64 {
        switch source {
        case .sqlite(let s): return s.int(i)
        case .postgres(let r):
            // Digits and booleans from libpq's buffer; the text only for other forms (`+5`, a fraction).
            if let v = r.integer(i) { return v }
            if r.bool(i) { return 1 }
            let t = r.text(i)
            if let v = Int64(t) { return v }
            if let d = Double(t) { return Int64(exactly: d.rounded(.towardZero)) ?? 0 }
            return 0
        }
    }

    public func double(_ i: Int) -> Double {
        switch source {
        case .sqlite(let s): s.double(i)
        case .postgres(let r): r.double(i)
        }
    }

    public func text(_ i: Int) -> String {
        switch source {
        case .sqlite(let s): s.text(i)
        case .postgres(let r): r.text(i)
        }
    }

    public var columnCount: Int {
        switch source {
        case .sqlite(let s): s.columnCount
        case .postgres(let r): r.columnCount
        }
    }

    /// A flag column (SQLite 0/1, PostgreSQL boolean).
    public func bool(_ i: Int) -> Bool { int(i) != 0 }

    public func optionalText(_ i: Int) -> String? { isNull(i) ? nil : text(i) }
    public func optionalInt(_ i: Int) -> Int64? { isNull(i) ? nil : int(i) }
    public func optionalDouble(_ i: Int) -> Double? { isNull(i) ? nil : double(i) }

    /// The column as a typed value (PostgreSQL's by the column's type).
    public func value(_ i: Int) -> SQLiteValue {
        switch source {
        case .sqlite(let s): return s.value(i)
        case .postgres(let r):
            if r.isNull(i) { return .null }
            switch r.kind(i) {
            case .integer: return .integer(int(i))
            case .real: return .real(r.double(i))
            case .boolean: return .integer(r.bool(i) ? 1 : 0)
            case .text: return .text(r.text(i))
            }
        }
    }
}
