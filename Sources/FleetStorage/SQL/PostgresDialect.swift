// FleetStorage: PostgreSQL's forms of the generated SQL. The fleet index's text columns are
// `COLLATE "C"` (Schema/postgres/), so a LIKE with a literal prefix walks their B-tree as
// SQLite's GLOB does; flags are booleans; placeholders are numbered.

#if canImport(FleetQuery)  // the fuzzer compiles these with the language's sources as one module
import FleetQuery
#endif

/// PostgreSQL 15 (and Citus, which plans the same SQL per shard).
public struct PostgresDialect: SQLDialect, StoreDialect {
    public init() {}
    public var name: String { "postgresql" }

    /// `column LIKE ? ESCAPE '\'`, the wildcard pattern rewritten: `*` → `%`, `?` → `_`,
    /// `[x]` → x, and LIKE's own `%`, `_` and `\` escaped.
    public func appendPatternMatch(_ column: StaticString, pattern: String, to sql: inout SQLFragment) {
        sql.append(column)
        sql.append(" LIKE ")
        sql.append(bind: .text(Self.likePattern(pattern)))
        sql.append(" ESCAPE '\\'")
    }

    /// The LIKE pattern of a fleetdex wildcard pattern (`*`, `?`, `[x]` for a literal x).
    public static func likePattern(_ glob: String) -> String {
        let b = Array(glob.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 4)
        func literal(_ c: UInt8) {
            if c == UInt8(ascii: "%") || c == UInt8(ascii: "_") || c == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(c)
        }
        var i = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "*"): out.append(UInt8(ascii: "%"))
            case UInt8(ascii: "?"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "[") where i + 2 < b.count && b[i + 2] == UInt8(ascii: "]"):
                literal(b[i + 1])
                i += 2
            default: literal(c)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// PostgreSQL's planner chooses among the indexes itself; no hint is written.
    public func appendIndexHint(_ index: StaticString, to sql: inout SQLFragment) {}

    /// PostgreSQL reorders joins itself (within join_collapse_limit); a plain JOIN.
    public var orderedJoin: StaticString { " JOIN " }

    /// `connected = false` is simplified to `NOT connected`, the partial indexes' WHERE.
    public func flag(_ value: Bool) -> StaticString { value ? "true" : "false" }

    /// PostgreSQL does not probe an index for a column of a row it already holds.
    public func appendUnindexed(_ column: StaticString, to sql: inout SQLFragment) { sql.append(column) }

    public var alwaysTrue: StaticString { "true" }
    public var alwaysFalse: StaticString { "false" }

    /// `?` numbered `$1`, `$2`, ... in order. Raw SQL only enters a fragment as source text
    /// (StaticString), and none of it holds a `?` but the placeholders. Parameters go in text
    /// form (`parameterText`) and take the type of what they are compared with, so a bigint
    /// column keeps its index; a number with a fraction is cast (`$n::float8`), since it
    /// would not read as a bigint.
    public func text(of fragment: SQLFragment) -> String {
        Self.statementText(placeholderText(of: fragment))
    }

    /// The fragment's SQL with `?` placeholders kept (for a statement that goes on), a number
    /// with a fraction cast as `text(of:)` casts it.
    public func placeholderText(of fragment: SQLFragment) -> String {
        guard fragment.binds.contains(where: { if case .real(let d) = $0 { Self.integral(d) == nil } else { false } }) else { return fragment.sql }
        var out = ""
        var n = 0
        for ch in fragment.sql {
            out.append(ch)
            if ch == "?" {
                if n < fragment.binds.count, case .real(let d) = fragment.binds[n], Self.integral(d) == nil { out += "::float8" }
                n += 1
            }
        }
        return out
    }

    /// The text a parameter is sent as: integers and whole numbers as digits, other numbers
    /// as Swift writes a Double (which PostgreSQL's float8 reads exactly back).
    public static func parameterText(_ p: SQLParameter) -> String {
        switch p {
        case .integer(let v): return String(v)
        case .text(let s): return s
        case .real(let d):
            if let i = integral(d) { return String(i) }
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return "\(d)"
        }
    }

    /// `d` as an Int64 when it is a whole number in range.
    static func integral(_ d: Double) -> Int64? {
        guard d.isFinite, d == d.rounded(), abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    // MARK: the stores' forms

    /// The PostgreSQL dialect the stores bind once.
    public static let shared = PostgresDialect()

    public func flag(_ column: String, _ value: Bool) -> String { column + (value ? " = true" : " = false") }
    /// The JSON array's elements as bigints (the parameter is the same JSON text SQLite reads,
    /// `[1,2,3]`, which becomes the array literal `{1,2,3}`). Unnesting an array lets the planner
    /// count its elements and probe the key's index; `jsonb_array_elements_text` was estimated
    /// at 100 rows and read the whole shadow table for one thing's page (2.2 ms at 100,000).
    public var boundIntegerList: String { "(SELECT unnest(translate(?, '[]', '{}')::bigint[]))" }
    /// No counter of other connections' commits: read again each time.
    public var dataVersion: String { "" }
    public var bulkCacheSize: String { "" }
    public var defaultCacheSize: String { "" }
    public func withoutIndex(_ column: String) -> String { column }
    /// The text is re-read as jsonb, the member set, and written back as text.
    public func jsonSetMember(_ column: String) -> String { "jsonb_set(\(column)::jsonb, ARRAY[?::text], to_jsonb(?::text))::text" }
    public func greatest(_ a: String, _ b: String) -> String { "GREATEST(\(a), \(b))" }
    public func indexedBy(_ index: StaticString) -> String { "" }
    public var orderedJoinText: String { " JOIN " }
    public var patternMatch: String { " LIKE ? ESCAPE '\\'" }
    public func patternParameter(_ glob: String) -> String { Self.likePattern(glob) }
    /// The fleet key of a name (Schema/postgres/0001_fleet.sql: the distribution column).
    public var nameKey: String? { "hashtextextended(?, 0)" }
    public var arrivalOrder: String { "seq" }
    /// A batch travels as array parameters (PostgresArray literals), a few statements a batch.
    public var writesBatchesAsArrays: Bool { true }
    public var readsPagesInOneStatement: Bool { true }
    /// `nameKey` of a name that is an expression (the same hash).
    public func nameKey(of expression: String) -> String? { "hashtextextended(\(expression), 0)" }
    public var defersIndexesOnBulkImport: Bool { false }
    public var secondaryIndexes: String {
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    }

    /// A store's statement with its `?` placeholders numbered `$1`, `$2`, ..., and SQLite's
    /// `?NNN` as `$NNN` (a following `?` is the next after the largest so far, as in SQLite);
    /// a `?` inside a quoted literal or identifier, or a comment, is left alone.
    public static func statementText(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character? = nil
        var previous: Character = " "
        var lineComment = false
        var digits: String? = nil
        for ch in sql {
            if let d = digits {
                if ch.isASCII, ch.isNumber { digits = d + String(ch); continue }
                digits = nil
                if d.isEmpty { n += 1; out += "$\(n)" } else { n = max(n, Int(d) ?? 0); out += "$" + d }
            }
            if lineComment {
                if ch == "\n" { lineComment = false }
                out.append(ch)
            } else if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "-" && previous == "-" {
                lineComment = true
                out.append(ch)
            } else if ch == "?" {
                digits = ""
                previous = ch
                continue
            } else {
                out.append(ch)
            }
            previous = ch
        }
        if let d = digits { out += d.isEmpty ? "$\(n + 1)" : "$" + d }
        return out
    }
}
