// FleetStorage: SQL text plus its bound parameters. Raw SQL only enters as StaticString, so
// user text can only arrive as a bound parameter.

#if canImport(FleetQuery)  // the fuzzer compiles these with the language's sources as one module
import FleetQuery
#endif

/// A bound parameter of generated SQL.
public enum SQLParameter: Equatable, Hashable, Sendable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .integer(let v): String(v)
        case .real(let v): formatNumber(v)
        case .text(let s): "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        }
    }
}

/// Generated SQL and its parameters, in placeholder order.
public struct SQLFragment: Equatable, Sendable {
    public private(set) var sql = ""
    public private(set) var binds: [SQLParameter] = []

    public init() {}

    /// A fragment of SQL written in the source code.
    public init(_ keyword: StaticString) { append(keyword) }

    /// Appends SQL written in the source code (never user text).
    public mutating func append(_ keyword: StaticString) {
        sql += keyword.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }

    /// Appends a placeholder and binds `value` to it.
    public mutating func append(bind value: SQLParameter) {
        sql += "?"
        binds.append(value)
    }

    /// Appends another fragment with its parameters.
    public mutating func append(_ other: SQLFragment) {
        sql += other.sql
        binds += other.binds
    }
}
