// FleetPostgres: a value bound to a `$n` placeholder. Sent in PostgreSQL's text format, so
// the server casts it to the column's type; arrays go as `{...}` literals for `= ANY($1)`.

/// A parameter of a statement.
public enum PostgresValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    /// A `bigint[]` (for `= ANY($1::bigint[])` / `unnest`).
    case ints([Int64])
    /// A `text[]`.
    case texts([String])

    /// The text form libpq sends; nil is SQL NULL.
    var wireText: String? {
        switch self {
        case .null: return nil
        case .int(let v): return String(v)
        case .double(let v): return Self.doubleText(v)
        case .text(let s): return s
        case .bool(let b): return b ? "t" : "f"
        case .ints(let vs): return PostgresArray.literal(vs)
        case .texts(let ss): return PostgresArray.literal(ss)
        }
    }

    /// A double as PostgreSQL reads it back exactly (NaN and the infinities by name).
    @usableFromInline static func doubleText(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return "\(v)"
    }
}

/// A Swift value that binds as a parameter.
public protocol PostgresBindable {
    var postgresValue: PostgresValue { get }
}

extension PostgresValue: PostgresBindable { public var postgresValue: PostgresValue { self } }
extension Int64: PostgresBindable { public var postgresValue: PostgresValue { .int(self) } }
extension Int: PostgresBindable { public var postgresValue: PostgresValue { .int(Int64(self)) } }
extension Double: PostgresBindable { public var postgresValue: PostgresValue { .double(self) } }
extension String: PostgresBindable { public var postgresValue: PostgresValue { .text(self) } }
extension Bool: PostgresBindable { public var postgresValue: PostgresValue { .bool(self) } }
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}
