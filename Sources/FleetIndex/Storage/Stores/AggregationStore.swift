// FleetIndex storage: the SQL of the fleet index's aggregations: where each aggregatable
// field's values live, restricted to the things a compiled query matches, and the four
// aggregate queries over them.
import FleetQuery
import FleetSQLite
import FleetStorage

/// A field an aggregation reads, resolved by the operation (custom fields, value types).
enum AggregatedField {
    case thingName, thingId, thingTypeName, thingGroupNames
    case connected, connectivityTimestamp, disconnectReason
    case violationCount
    /// An attribute or shadow leaf, in the value table of its type.
    case leaf(String, Aggregations.FieldType)
}

/// The aggregate queries.
struct AggregationStore {
    let c: StoreConnection

    /// Where a field's values live, and whether text values are lower-cased already.
    struct Source {
        var sql: String          // SELECT <value> FROM ... with the matching things bound after `binds`
        var binds: [SQLiteValue]
        var lowered = false
        /// The values are flags (SQLite 0/1, PostgreSQL booleans): counted as 1 and 0 in sums.
        var flags = false
    }

    /// The things a condition matches, as a subquery; nil for every thing.
    func matching(_ condition: SQLFragment?) -> (String?, [SQLiteValue]) {
        guard let condition else { return (nil, []) }
        return ("SELECT t.id FROM thing AS t WHERE " + SearchStore.conditionText(condition, c), SearchStore.values(condition))
    }

    /// How many text, number and flag values a leaf field has (an undeclared field is typed by them).
    func valueCounts(field: String) throws -> (texts: Int64, numbers: Int64, flags: Int64) {
        (try c.scalar("SELECT count(*) FROM thing_text WHERE field = ?", [field])?.int ?? 0,
         try c.scalar("SELECT count(*) FROM thing_number WHERE field = ?", [field])?.int ?? 0,
         try c.scalar("SELECT count(*) FROM thing_flag WHERE field = ?", [field])?.int ?? 0)
    }

    /// The SQL that yields `field`'s values for the things in `matching`.
    func source(_ field: AggregatedField, matching: String?) -> Source {
        // Every thing: no restriction at all (the value tables are scanned by field).
        func only(_ column: String) -> String { matching.map { " AND \(column) IN (\($0))" } ?? "" }
        // A value of the thing row: with a condition, the matching things drive (their ids
        // first, then each row by id), so a few thousand matches never walk an index over the
        // whole fleet (a timestamp or reason index the planner may prefer on stale statistics).
        func thingValue(_ expr: String, _ filter: String = "true", join: String = "") -> Source {
            guard let matching else { return Source(sql: "SELECT \(expr) AS v FROM thing AS t\(join) WHERE \(filter)", binds: []) }
            return Source(sql: "SELECT \(expr) AS v FROM (\(matching)) AS m\(orderedJoin)thing AS t ON t.id = m.id\(join) WHERE \(filter)", binds: [])
        }
        switch field {
        case .thingName: return thingValue("t.name")
        case .thingId: return thingValue("t.thing_id")
        case .thingTypeName: return thingValue("y.name", join: " JOIN thing_type AS y ON y.id = t.type")
        case .thingGroupNames:
            guard let matching else {
                return Source(sql: "SELECT g.name AS v FROM thing_group_member AS gm JOIN thing_group AS g ON g.id = gm.group_id", binds: [])
            }
            return Source(sql: "SELECT g.name AS v FROM (\(matching)) AS m\(orderedJoin)thing_group_member AS gm ON gm.thing = m.id JOIN thing_group AS g ON g.id = gm.group_id", binds: [])
        case .connected:
            var s = thingValue("t.connected")
            s.flags = true
            return s
        case .connectivityTimestamp: return thingValue("t.conn_ts", "t.conn_ts IS NOT NULL")
        case .disconnectReason: return thingValue("t.disconnect_reason", c.dialect.flag("t.connected", false) + " AND t.disconnect_reason IS NOT NULL")
        case .violationCount: return thingValue("(SELECT count(*) FROM alarm AS a WHERE a.thing = t.id AND \(c.dialect.flag("a.in_alarm", true)))")
        case .leaf(let name, let type):
            let table = switch type {
            case .number: "SELECT x.value AS v FROM thing_number AS x WHERE x.field = ?"
            case .boolean: "SELECT x.value AS v FROM thing_flag AS x WHERE x.field = ?"
            case .string: "SELECT x.value AS v FROM thing_text AS x WHERE x.field = ?"
            }
            return Source(sql: table + only("x.thing"), binds: [.text(name)], lowered: type == .string, flags: type == .boolean)
        }
    }

    /// The join that keeps the matching things first (the dialect's ordered join).
    var orderedJoin: String { c.dialect.orderedJoinText }

    /// How many things a condition matches (nil: every thing).
    func count(_ condition: SQLFragment?) throws -> Int64 {
        let (m, binds) = matching(condition)
        return try c.scalar("SELECT count(*) FROM (\(m ?? "SELECT id FROM thing")) AS q", binds)?.int ?? 0
    }

    /// How many values `field` has among the matching things.
    func valueCount(_ field: AggregatedField, _ condition: SQLFragment?) throws -> Int64 {
        let (m, binds) = matching(condition)
        let src = source(field, matching: m)
        return try c.scalar("SELECT count(*) FROM (\(src.sql)) AS q", src.binds + binds)?.int ?? 0
    }

    /// count, avg, sum, min, max and the sum of squares of a numeric field's values.
    func statistics(_ field: AggregatedField, _ condition: SQLFragment?) throws
        -> (count: Int64, avg: Double?, sum: Double?, min: Double?, max: Double?, sumOfSquares: Double?) {
        let (m, binds) = matching(condition)
        let src = source(field, matching: m)
        let v = src.flags ? "(CASE WHEN v THEN 1 ELSE 0 END)" : "v"
        return try c.query("SELECT count(\(v)), avg(\(v)), sum(\(v)), min(\(v)), max(\(v)), sum(\(v) * \(v)) FROM (\(src.sql)) AS q", src.binds + binds) { s in
            (s.int(0), s.optionalDouble(1), s.optionalDouble(2), s.optionalDouble(3), s.optionalDouble(4), s.optionalDouble(5))
        }.first!
    }

    /// The fleet at a glance, without reading a thing row: every thing; the disconnected
    /// ones per range of their connectivity timestamp (below `bounds[0]`, between each pair,
    /// from the last up; never connected apart) and per disconnect reason, from the partial
    /// index of disconnected things; things in violation per profile, from the in-alarm index.
    func summary(bounds: [Int64]) throws -> (things: Int64, disconnected: Int64, ranges: [Int64], neverConnected: Int64,
                                               reasons: [(String, Int64)], violating: [String: Int64]) {
        let things = try c.scalar("SELECT count(*) FROM thing")?.int ?? 0
        var ranges = [Int64](repeating: 0, count: bounds.count + 1)
        var never: Int64 = 0
        var bucket = "CASE WHEN conn_ts IS NULL THEN -1"
        for i in bounds.indices { bucket += " WHEN conn_ts < ? THEN \(i)" }   // static text; the bounds are bound
        bucket += " ELSE \(bounds.count) END"
        try c.forEach("SELECT \(bucket) AS k, count(*) FROM thing\(c.dialect.indexedBy("thing_disconnected_since")) WHERE \(c.dialect.flag("connected", false)) GROUP BY k",
                      bounds) { s in
            let k = Int(s.int(0))
            if k < 0 { never = s.int(1) } else if ranges.indices.contains(k) { ranges[k] = s.int(1) }
        }
        let reasons = try c.query("""
            SELECT disconnect_reason, count(*) AS n FROM thing\(c.dialect.indexedBy("thing_disconnected_since"))
            WHERE \(c.dialect.flag("connected", false)) AND disconnect_reason IS NOT NULL GROUP BY disconnect_reason ORDER BY n DESC, disconnect_reason
            """) { ($0.text(0), $0.int(1)) }
        var violating: [String: Int64] = [:]
        try c.forEach("SELECT profile, count(DISTINCT thing) FROM alarm WHERE \(c.dialect.flag("in_alarm", true)) AND thing IS NOT NULL GROUP BY profile") {
            violating[$0.text(0)] = $0.int(1)
        }
        return (things, ranges.reduce(0, +) + never, ranges, never, reasons, violating)
    }

    /// Distinct values (text case-insensitively).
    func distinctCount(_ field: AggregatedField, isText: Bool, _ condition: SQLFragment?) throws -> Int64 {
        let (m, binds) = matching(condition)
        let src = source(field, matching: m)
        let expr = isText && !src.lowered ? "lower(v)" : "v"
        return try c.scalar("SELECT count(DISTINCT \(expr)) FROM (\(src.sql)) AS q", src.binds + binds)?.int ?? 0
    }

    /// A numeric field's values in ascending order.
    func sortedNumbers(_ field: AggregatedField, _ condition: SQLFragment?) throws -> [Double] {
        let (m, binds) = matching(condition)
        let src = source(field, matching: m)
        return try c.query("SELECT v FROM (\(src.sql)) AS q ORDER BY v", src.binds + binds) { $0.double(0) }
    }

    /// The most frequent values, by count then key: the key as the bucket names it, its
    /// count, and (for text) the first value as stored.
    func buckets(_ field: AggregatedField, type: Aggregations.FieldType, _ condition: SQLFragment?, limit: Int) throws
        -> [(key: String, number: Double, count: Int64, first: String)] {
        let (m, binds) = matching(condition)
        let src = source(field, matching: m)
        let key = switch type {
        case .string: src.lowered ? "v" : "lower(v)"
        case .boolean: "CASE WHEN v THEN 'true' ELSE 'false' END"
        case .number: "v"
        }
        return try c.query("SELECT \(key) AS k, count(*) AS n, \(type == .string ? "min(v)" : "NULL") FROM (\(src.sql)) AS q GROUP BY k ORDER BY n DESC, k LIMIT ?",
                           src.binds + binds + [.integer(Int64(limit))]) { s in
            (type == .number ? "" : s.text(0), type == .number ? s.double(0) : 0, s.int(1), type == .string ? s.text(2) : "")
        }
    }
}
