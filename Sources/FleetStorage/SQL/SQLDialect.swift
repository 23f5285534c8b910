// FleetStorage: what differs between the SQL engines fleetdex lowers to: SQLite's GLOB, index
// hints, join ordering, integer flags and `?` placeholders here; PostgreSQL's LIKE, booleans
// and `$n` in PostgresDialect.

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
    /// The literal a flag column is compared with (`connected = <flag(false)>`), in the form
    /// the engine's partial indexes name.
    func flag(_ value: Bool) -> StaticString
    /// Appends `column` in a form that keeps the engine from using an index on it (the row is
    /// read anyway; a probe of the index would only add work).
    func appendUnindexed(_ column: StaticString, to sql: inout SQLFragment)
    /// The conditions that always hold and never do.
    var alwaysTrue: StaticString { get }
    var alwaysFalse: StaticString { get }
    /// The SQL text of `fragment` with the engine's placeholders.
    func text(of fragment: SQLFragment) -> String
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
    /// Flags are integers 0/1; `column = 1` is what the partial indexes' WHERE says.
    public func flag(_ value: Bool) -> StaticString { value ? "1" : "0" }
    /// A unary `+` makes the column an expression no index covers.
    public func appendUnindexed(_ column: StaticString, to sql: inout SQLFragment) {
        sql.append("+")
        sql.append(column)
    }
    public var alwaysTrue: StaticString { "1" }
    public var alwaysFalse: StaticString { "0" }
    /// SQLite takes `?` as written.
    public func text(of fragment: SQLFragment) -> String { fragment.sql }
}
