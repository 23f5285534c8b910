// FleetStorage: PostgreSQL's forms of the generated SQL. The fleet index's text columns are
// `COLLATE "C"` (Schema/postgres/), so a LIKE with a literal prefix walks their B-tree as
// SQLite's GLOB does; flags are booleans; placeholders are numbered.

#if canImport(FleetQuery)  // the fuzzer compiles these with the language's sources as one module
import FleetQuery
#endif

/// PostgreSQL 15 (and Citus, which plans the same SQL per shard).
public struct PostgresDialect: SQLDialect {
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
        var out = ""
        out.reserveCapacity(fragment.sql.utf8.count + fragment.binds.count * 2)
        var n = 0
        for ch in fragment.sql {
            if ch == "?" {
                out += "$\(n + 1)"
                if n < fragment.binds.count, case .real(let d) = fragment.binds[n], Self.integral(d) == nil { out += "::float8" }
                n += 1
            } else {
                out.append(ch)
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
}
