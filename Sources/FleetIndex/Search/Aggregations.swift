// FleetIndex: the fleet index's aggregations, answered in SQL over the things a query
// matches: GetStatistics, GetCardinality, GetPercentiles and GetBucketsAggregation.
import FleetQuery
import FleetSQLite
import Foundation

/// Aggregations over the values of one field of the matching things.
public struct Aggregations {
    public let db: FleetDatabase
    var c: Connection { db.connection }
    public init(_ db: FleetDatabase) throws { self.db = db }

    public enum FieldType: String { case number = "Number", string = "String", boolean = "Boolean" }

    /// Where a field's values live, and their type.
    struct Source {
        var sql: String          // SELECT <value> ... with the matching things bound in `?ids`
        var binds: [SQLiteValue]
        var type: FieldType
        /// Text values already lower-cased (the leaf tables): group and count them as they are.
        var lowered = false
    }

    /// The custom fields declared in the indexing configuration, name → type.
    func customFields() throws -> [String: FieldType] {
        let config = try db.indexingConfiguration()
        var out: [String: FieldType] = [:]
        for f in config["customFields"]?.arrayValue ?? [] {
            if let n = f["name"]?.stringValue, let t = f["type"]?.stringValue.flatMap(FieldType.init(rawValue:)) { out[n] = t }
        }
        return out
    }

    /// Resolves `field` to the SQL that yields its values for the things in `matching`.
    func source(_ field: String, matching: String?) throws -> Source {
        // `*` matches every thing: no restriction at all (the value tables are scanned by field).
        func only(_ column: String) -> String { matching.map { " AND \(column) IN (\($0))" } ?? "" }
        switch field {
        case "thingName": return Source(sql: "SELECT t.name FROM thing AS t WHERE 1" + only("t.id"), binds: [], type: .string)
        case "thingId": return Source(sql: "SELECT t.thing_id FROM thing AS t WHERE 1" + only("t.id"), binds: [], type: .string)
        case "thingTypeName":
            return Source(sql: "SELECT y.name FROM thing AS t JOIN thing_type AS y ON y.id = t.type WHERE 1" + only("t.id"), binds: [], type: .string)
        case "thingGroupNames":
            return Source(sql: "SELECT g.name FROM thing_group_member AS gm JOIN thing_group AS g ON g.id = gm.group_id WHERE 1" + only("gm.thing"), binds: [], type: .string)
        case "connectivity.connected":
            return Source(sql: "SELECT t.connected FROM thing AS t WHERE 1" + only("t.id"), binds: [], type: .boolean)
        case "connectivity.timestamp":
            return Source(sql: "SELECT t.conn_ts FROM thing AS t WHERE t.conn_ts IS NOT NULL" + only("t.id"), binds: [], type: .number)
        case "connectivity.disconnectReason":
            return Source(sql: "SELECT t.disconnect_reason FROM thing AS t WHERE t.connected = 0 AND t.disconnect_reason IS NOT NULL" + only("t.id"), binds: [], type: .string)
        case "deviceDefender.violationCount":
            return Source(sql: "SELECT (SELECT count(*) FROM alarm AS a WHERE a.thing = t.id AND a.in_alarm = 1) FROM thing AS t WHERE 1" + only("t.id"), binds: [], type: .number)
        default:
            guard field.hasPrefix("attributes.") || field.hasPrefix("shadow.") else {
                throw FleetError(.invalidAggregation, "\(field) cannot be aggregated (thingName, thingTypeName, thingGroupNames, attributes.*, shadow.*, connectivity.*, deviceDefender.violationCount)")
            }
            let declared = try customFields()[field]
            let type: FieldType
            if let declared {
                type = declared
            } else {
                // Undeclared: typed by its values (all numbers: Number; all booleans: Boolean).
                let texts = try c.scalar("SELECT count(*) FROM thing_text WHERE field = ?", [field])?.int ?? 0
                let numbers = try c.scalar("SELECT count(*) FROM thing_number WHERE field = ?", [field])?.int ?? 0
                let flags = try c.scalar("SELECT count(*) FROM thing_flag WHERE field = ?", [field])?.int ?? 0
                // An attribute that is a number literal is in thing_text and thing_number alike.
                type = numbers > 0 && numbers >= texts && flags == 0 ? .number : (flags > 0 && texts == 0 && numbers == 0 ? .boolean : .string)
            }
            let table = switch type {
            case .number: "thing_number"
            case .boolean: "thing_flag"
            case .string: "thing_text"
            }
            return Source(sql: "SELECT x.value FROM \(table) AS x WHERE x.field = ?" + only("x.thing"), binds: [.text(field)], type: type, lowered: type == .string)
        }
    }

    /// The things `query` matches, as a subquery with its binds; nil for `*` (every thing).
    func matching(_ query: String, at now: Int64) throws -> (String?, [SQLiteValue]) {
        let q = try Search(db).compile(query, at: now)
        if q.bound == .all { return (nil, []) }
        return ("SELECT t.id FROM thing AS t WHERE " + q.condition.sql, Search.values(q.condition))
    }

    func count(_ matching: String?, _ binds: [SQLiteValue]) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM (\(matching ?? "SELECT id FROM thing"))", binds)?.int ?? 0
    }

    func checkIndex(_ indexName: String?) throws {
        if let indexName, indexName != "AWS_Things" { throw FleetError.notFound("Index \(indexName) does not exist") }
    }

    /// GetStatistics: count for any field; the rest for numbers (a boolean's average is the
    /// fraction true); variance is the population variance.
    public func statistics(query: String, field: String?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let (ids, binds) = try matching(query, at: now)
        guard let field else {
            return jsonObject([("statistics", jsonObject([("count", .int(try count(ids, binds)))]))])
        }
        let src = try source(field, matching: ids)
        let values = src.binds + binds
        if src.type == .string {
            let n = try c.scalar("SELECT count(*) FROM (\(src.sql))", values)?.int ?? 0
            return jsonObject([("statistics", jsonObject([("count", .int(n))]))])
        }
        let r = try c.query("SELECT count(v), avg(v), sum(v), min(v), max(v), sum(v * v) FROM (\(src.sql.replacingFirstSelect())) ", values) { s in
            (s.int(0), s.optionalDouble(1), s.optionalDouble(2), s.optionalDouble(3), s.optionalDouble(4), s.optionalDouble(5))
        }.first!
        guard r.0 > 0, let avg = r.1, let sum = r.2, let sq = r.5 else {
            return jsonObject([("statistics", jsonObject([("count", .int(0))]))])
        }
        let n = Double(r.0)
        let variance = max(0, sq / n - avg * avg)
        return jsonObject([("statistics", jsonObject([
            ("count", .int(r.0)), ("average", .double(avg)), ("sum", .double(sum)), ("minimum", r.3.map(JSONValue.double)),
            ("maximum", r.4.map(JSONValue.double)), ("sumOfSquares", .double(sq)), ("variance", .double(variance)),
            ("stdDeviation", .double(variance.squareRoot())),
        ]))])
    }

    /// GetCardinality: distinct values (strings compare case-insensitively).
    public func cardinality(query: String, field: String?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let (ids, binds) = try matching(query, at: now)
        let src = try source(field ?? "thingName", matching: ids)
        let expr = src.type == .string && !src.lowered ? "lower(v)" : "v"
        let n = try c.scalar("SELECT count(DISTINCT \(expr)) FROM (\(src.sql.replacingFirstSelect()))", src.binds + binds)?.int ?? 0
        return jsonObject([("cardinality", .int(n))])
    }

    /// GetPercentiles of a number field: linear interpolation between the closest ranks,
    /// rank = p/100 × (n − 1) over the ascending values.
    public func percentiles(query: String, field: String, percents: [Double]?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let ps = percents ?? [1, 5, 25, 50, 75, 95, 99]
        for p in ps where !(0...100).contains(p) { throw FleetError.invalid("percents must be between 0 and 100, got \(p)") }
        let (ids, binds) = try matching(query, at: now)
        let src = try source(field, matching: ids)
        guard src.type == .number else {
            throw FleetError(.invalidAggregation, "\(field) is a \(src.type.rawValue) field; percentiles need a Number field")
        }
        let values = try c.query("SELECT v FROM (\(src.sql.replacingFirstSelect())) ORDER BY v", src.binds + binds) { $0.double(0) }
        guard !values.isEmpty else { return jsonObject([("percentiles", .array([]))]) }
        let out = ps.map { p -> JSONValue in
            let rank = p / 100 * Double(values.count - 1)
            let lo = Int(rank.rounded(.down)), hi = min(lo + 1, values.count - 1)
            let v = values[lo] + (values[hi] - values[lo]) * (rank - Double(lo))
            return jsonObject([("percent", .double(p)), ("value", .double(v))])
        }
        return jsonObject([("percentiles", .array(out))])
    }

    /// GetBucketsAggregation (terms): the most frequent values, keys as strings, by count.
    public func buckets(query: String, field: String, maxBuckets: Int?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let limit = maxBuckets ?? 10
        guard (1...10_000).contains(limit) else { throw FleetError.invalid("termsAggregation.maxBuckets must be between 1 and 10000") }
        let (ids, binds) = try matching(query, at: now)
        let src = try source(field, matching: ids)
        let key = switch src.type {
        case .string: src.lowered ? "v" : "lower(v)"
        case .boolean: "CASE v WHEN 1 THEN 'true' ELSE 'false' END"
        case .number: "v"
        }
        let total = try count(ids, binds)
        let rows = try c.query("SELECT \(key) AS k, count(*) AS n, min(v) FROM (\(src.sql.replacingFirstSelect())) GROUP BY k ORDER BY n DESC, k LIMIT ?",
                               src.binds + binds + [.integer(Int64(limit))]) { s -> JSONValue in
            let k: String = src.type == .number ? JSONValue.double(s.double(0)).compact : (src.type == .string ? s.text(2) : s.text(0))
            return jsonObject([("keyValue", .string(k)), ("count", .int(s.int(1)))])
        }
        return jsonObject([("totalCount", .int(total)), ("buckets", .array(rows))])
    }
}

extension String {
    /// `SELECT expr FROM ...` → `SELECT expr AS v FROM ...`, so the outer query can name it.
    func replacingFirstSelect() -> String {
        guard let r = range(of: " FROM ") else { return self }
        return String(self[..<r.lowerBound]) + " AS v" + String(self[r.lowerBound...])
    }
}
