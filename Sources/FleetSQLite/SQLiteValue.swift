// FleetSQLite: the five storage classes of SQLite as one Swift value, used for binds and rows.

/// A value as SQLite stores it. Binds and column reads both go through this type.
public enum SQLiteValue: Equatable, Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as an SQL literal (`--explain` prints the parameters so): text with control
    /// characters or NUL spells them `char(N)`, so the literal stays one line and means the same.
    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .text(let v): Self.literal(v)
        case .blob(let v): "x'" + v.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "'"
        }
    }

    static func literal(_ s: String) -> String {
        var parts: [String] = []
        var run = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f {
                if !run.isEmpty { parts.append("'" + run + "'"); run = "" }
                parts.append("char(\(u.value))")
            } else {
                if u == "'" { run += "''" } else { run.unicodeScalars.append(u) }
            }
        }
        if !run.isEmpty || parts.isEmpty { parts.append("'" + run + "'") }
        return parts.joined(separator: " || ")
    }

    public var int: Int64? {
        switch self {
        case .integer(let v): v
        case .real(let v): Int64(v)
        default: nil
        }
    }
    public var double: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .real(let v): v
        default: nil
        }
    }
    public var string: String? {
        if case .text(let v) = self { return v }
        return nil
    }
    public var isNull: Bool { self == .null }
}

/// Conversion of Swift values to bound SQLite values.
public protocol SQLiteBindable {
    var sqliteValue: SQLiteValue { get }
}
extension Int: SQLiteBindable { public var sqliteValue: SQLiteValue { .integer(Int64(self)) } }
extension Int64: SQLiteBindable { public var sqliteValue: SQLiteValue { .integer(self) } }
extension Double: SQLiteBindable { public var sqliteValue: SQLiteValue { .real(self) } }
extension String: SQLiteBindable { public var sqliteValue: SQLiteValue { .text(self) } }
extension Bool: SQLiteBindable { public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) } }
extension SQLiteValue: SQLiteBindable { public var sqliteValue: SQLiteValue { self } }
extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    public var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}
