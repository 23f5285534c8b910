// FleetStorage: what differs between the SQL engines fleetdex lowers to. SQLite's GLOB lives
// here; a PostgreSQL dialect would write LIKE/ILIKE with its own escaping.

#if canImport(FleetQuery)  // the fuzzer compiles these with the language's sources as one module
import FleetQuery
#endif

/// The engine-specific parts of generated SQL.
public protocol SQLDialect: Sendable {
    var name: String { get }
    /// Appends "`column` matches the wildcard pattern" (the pattern uses `*`, `?` and
    /// `[x]` for a literal x, already lower-cased; the column holds lower-cased text).
    func appendPatternMatch(_ column: StaticString, pattern: String, to sql: inout SQLFragment)
    /// Appends, after a table name, the hint that the named (partial) index must be used;
    /// nothing where the engine chooses well on its own.
    func appendIndexHint(_ index: StaticString, to sql: inout SQLFragment)
    /// The join keyword (with surrounding spaces) that keeps the written table order, for
    /// driver-then-probe joins ("JOIN" where the engine plans those well unaided).
    var orderedJoin: StaticString { get }
}

/// SQLite: GLOB on lower-cased BINARY columns, which uses an index for a literal prefix.
public struct SQLiteDialect: SQLDialect {
    public init() {}
    public var name: String { "sqlite" }
    public func appendPatternMatch(_ column: StaticString, pattern: String, to sql: inout SQLFragment) {
        sql.append(column)
        sql.append(" GLOB ")
        sql.append(bind: .text(pattern))
    }
    /// SQLite reads `CROSS JOIN` as "keep this order".
    public var orderedJoin: StaticString { " CROSS JOIN " }
    /// SQLite prefers a rowid seek into the wide thing row over a partial index; say which.
    public func appendIndexHint(_ index: StaticString, to sql: inout SQLFragment) {
        sql.append(" INDEXED BY ")
        sql.append(index)
    }
}
