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
    /// The fragment's SQL still with `?` placeholders (for a statement that goes on), in the
    /// forms the engine needs for its parameters.
    func placeholderText(of fragment: SQLFragment) -> String
}

/// The statement forms the stores write that SQLite and PostgreSQL spell differently.
/// Everything else the stores write (`INSERT … ON CONFLICT … DO NOTHING / DO UPDATE`,
/// `RETURNING`, `IS NOT DISTINCT FROM`, joins) is read alike by both.
public protocol StoreDialect: Sendable {
    var name: String { get }
    /// `column` compared with a flag value, in the form the partial indexes' WHERE names
    /// (SQLite `connected = 0`; PostgreSQL `connected = false`).
    func flag(_ column: String, _ value: Bool) -> String
    /// A subquery, in parentheses, yielding the integers of one bound parameter that holds
    /// a JSON array of integers (`(SELECT value FROM json_each(?))`).
    var boundIntegerList: String { get }
    /// A statement with one row and one integer column that changes when another connection
    /// commits (`PRAGMA data_version`); empty where there is none (it is read again each time).
    var dataVersion: String { get }
    /// The script that sizes the page cache for a bulk operation, and the one that puts
    /// it back (empty where the server owns its buffers).
    var bulkCacheSize: String { get }
    var defaultCacheSize: String { get }
    /// `column` written so that the planner does not use an index on it (SQLite: `+column`),
    /// where an index on it would be the wrong choice.
    func withoutIndex(_ column: String) -> String
    /// An expression that sets the member named by one bound parameter of the JSON object
    /// text `column` to the text of the next bound parameter (`json_set(c, '$.' || ?, ?)`).
    func jsonSetMember(_ column: String) -> String
    /// The larger of two values (SQLite's two-argument `max`; PostgreSQL: `GREATEST`).
    func greatest(_ a: String, _ b: String) -> String
    /// After a table name: the hint that the named index must be used (SQLite's
    /// `INDEXED BY`; nothing where the planner chooses on its own).
    func indexedBy(_ index: StaticString) -> String
    /// The join keyword, with spaces, that keeps the written table order.
    var orderedJoinText: String { get }
    /// `" GLOB ?"` / `" LIKE ? ESCAPE '\'"`: a lower-cased column matched with the bound
    /// value of `patternParameter(_:)`.
    var patternMatch: String { get }
    /// The bound value for `patternMatch` of a fleetdex wildcard pattern (`*`, `?`, `[x]`).
    func patternParameter(_ glob: String) -> String
    /// The key a new row of a table distributed by a name gets (`thing`, `client`,
    /// `certificate`): nil where the engine numbers rows itself (SQLite's rowid); otherwise
    /// an expression of one bound parameter, the name (`hashtextextended(?, 0)`).
    var nameKey: String? { get }
    /// The names and definitions (`CREATE INDEX …`) of one table's indexes that no
    /// constraint owns, for one bound parameter, the table's name.
    var secondaryIndexes: String { get }
    /// Whether a bulk import into an empty registry drops the thing table's secondary indexes
    /// and builds them after (SQLite: sorting beats a random insert per row). Not on
    /// PostgreSQL: DROP INDEX locks the table against every reader for the whole import, and
    /// the import's lookups by name need the index.
    var defersIndexesOnBulkImport: Bool { get }
    /// The column of `client` that numbers clients in the order they were first seen
    /// (SQLite: the rowid `id`; PostgreSQL: `seq`, since `id` is the client's key).
    var arrivalOrder: String { get }
    /// Whether a store writes a batch of rows (ingest's clients, events and connectivity) in a
    /// few statements that each carry the whole batch in array parameters (PostgreSQL, where
    /// every statement is a network round trip), rather than one prepared statement per row
    /// (SQLite, where a statement costs about a microsecond and has no array type).
    var writesBatchesAsArrays: Bool { get }
    /// Whether a store reads what one page shows from several tables in one statement
    /// (`UNION ALL`; PostgreSQL, where each statement is a round trip) rather than one
    /// statement per table (SQLite, where the compound statement cost a page of one thing
    /// twice the time of the three simple ones).
    var readsPagesInOneStatement: Bool { get }
    /// `nameKey` of a name given as an SQL expression (a column of a set of rows) instead of
    /// one bound parameter: nil where the engine numbers rows itself.
    func nameKey(of expression: String) -> String?
}

/// SQLite: GLOB on lower-cased BINARY columns, which uses an index for a literal prefix.
public struct SQLiteDialect: SQLDialect, StoreDialect {
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
    public func placeholderText(of fragment: SQLFragment) -> String { fragment.sql }
    public func flag(_ column: String, _ value: Bool) -> String { column + (value ? " = 1" : " = 0") }
    public var boundIntegerList: String { "(SELECT value FROM json_each(?))" }
    public var dataVersion: String { "PRAGMA data_version" }
    /// 256 MiB while a bulk import, ingest or evaluation runs; SQLite's default 2 MiB after.
    public var bulkCacheSize: String { "PRAGMA cache_size = -262144" }
    public var defaultCacheSize: String { "PRAGMA cache_size = -2000" }
    public var orderedJoinText: String { " CROSS JOIN " }
    public func patternParameter(_ glob: String) -> String { glob }
    /// SQLite numbers rows itself (the rowid).
    public var nameKey: String? { nil }
    public var arrivalOrder: String { "id" }
    /// One prepared statement per row.
    public var writesBatchesAsArrays: Bool { false }
    public var readsPagesInOneStatement: Bool { false }
    public func nameKey(of expression: String) -> String? { nil }
    public var defersIndexesOnBulkImport: Bool { true }
    public var secondaryIndexes: String { "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?" }
    /// `" INDEXED BY <index>"` as text, for the stores' static SQL.
    public func indexedBy(_ index: StaticString) -> String {
        " INDEXED BY " + index.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }
    /// `" GLOB ?"`: the lower-cased pattern match the stores write (see `appendPatternMatch`).
    public var patternMatch: String { " GLOB ?" }
    public func withoutIndex(_ column: String) -> String { "+" + column }
    public func jsonSetMember(_ column: String) -> String { "json_set(\(column), '$.' || ?, ?)" }
    public func greatest(_ a: String, _ b: String) -> String { "max(\(a), \(b))" }
    /// The SQLite dialect the stores bind once.
    public static let shared = SQLiteDialect()
}
