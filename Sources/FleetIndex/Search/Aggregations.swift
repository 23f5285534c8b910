// FleetIndex: the fleet index's aggregations, answered in SQL over the things a query
// matches: GetStatistics, GetCardinality, GetPercentiles and GetBucketsAggregation.
import FleetQuery
import FleetStorage
import Foundation

/// Aggregations over the values of one field of the matching things.
public struct Aggregations {
    public let db: FleetDatabase
    var store: AggregationStore { db.aggregations }
    public init(_ db: FleetDatabase) throws { self.db = db }

    public enum FieldType: String { case number = "Number", string = "String", boolean = "Boolean" }

    /// A field resolved: where its values live (the store's), and their type.
    struct Source {
        var field: AggregatedField
        var type: FieldType
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

    /// Resolves `field` to where its values live and their type.
    func source(_ field: String) throws -> Source {
        switch field {
        case "thingName": return Source(field: .thingName, type: .string)
        case "thingId": return Source(field: .thingId, type: .string)
        case "thingTypeName": return Source(field: .thingTypeName, type: .string)
        case "thingGroupNames": return Source(field: .thingGroupNames, type: .string)
        case "connectivity.connected": return Source(field: .connected, type: .boolean)
        case "connectivity.timestamp": return Source(field: .connectivityTimestamp, type: .number)
        case "connectivity.disconnectReason": return Source(field: .disconnectReason, type: .string)
        case "deviceDefender.violationCount": return Source(field: .violationCount, type: .number)
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
                let (texts, numbers, flags) = try store.valueCounts(field: field)
                // An attribute that is a number literal is in thing_text and thing_number alike.
                type = numbers > 0 && numbers >= texts && flags == 0 ? .number : (flags > 0 && texts == 0 && numbers == 0 ? .boolean : .string)
            }
            return Source(field: .leaf(field, type), type: type)
        }
    }

    /// The condition of the things `query` matches; nil for `*` (every thing).
    func matching(_ query: String, at now: Int64) throws -> SQLFragment? {
        let q = try Search(db).compile(query, at: now)
        return q.bound == .all ? nil : q.condition
    }

    func checkIndex(_ indexName: String?) throws {
        if let indexName, indexName != "AWS_Things" { throw FleetError.notFound("Index \(indexName) does not exist") }
    }

    /// GetStatistics: count for any field; the rest for numbers (a boolean's average is the
    /// fraction true); variance is the population variance.
    public func statistics(query: String, field: String?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let ids = try matching(query, at: now)
        guard let field else {
            return jsonObject([("statistics", jsonObject([("count", .int(try store.count(ids)))]))])
        }
        let src = try source(field)
        if src.type == .string {
            let n = try store.valueCount(src.field, ids)
            return jsonObject([("statistics", jsonObject([("count", .int(n))]))])
        }
        let r = try store.statistics(src.field, ids)
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
        let ids = try matching(query, at: now)
        let src = try source(field ?? "thingName")
        let n = try store.distinctCount(src.field, isText: src.type == .string, ids)
        return jsonObject([("cardinality", .int(n))])
    }

    /// GetPercentiles of a number field: linear interpolation between the closest ranks,
    /// rank = p/100 × (n − 1) over the ascending values.
    public func percentiles(query: String, field: String, percents: [Double]?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let ps = percents ?? [1, 5, 25, 50, 75, 95, 99]
        for p in ps where !(0...100).contains(p) { throw FleetError.invalid("percents must be between 0 and 100, got \(p)") }
        let ids = try matching(query, at: now)
        let src = try source(field)
        guard src.type == .number else {
            throw FleetError(.invalidAggregation, "\(field) is a \(src.type.rawValue) field; percentiles need a Number field")
        }
        let values = try store.sortedNumbers(src.field, ids)
        guard !values.isEmpty else { return jsonObject([("percentiles", .array([]))]) }
        let out = ps.map { p -> JSONValue in
            let rank = p / 100 * Double(values.count - 1)
            let lo = Int(rank.rounded(.down)), hi = min(lo + 1, values.count - 1)
            let v = values[lo] + (values[hi] - values[lo]) * (rank - Double(lo))
            return jsonObject([("percent", .double(p)), ("value", .double(v))])
        }
        return jsonObject([("percentiles", .array(out))])
    }

    /// The fleet at a glance (not an AWS operation: the console's overview), read from
    /// small indexes only, so it costs the same at a million things as at a thousand.
    public struct Summary: Sendable, Equatable {
        /// Every thing, and the disconnected ones.
        public var things: Int64
        public var disconnected: Int64
        /// The disconnected things by connectivity timestamp: below `boundaries[0]`, between
        /// each pair, from the last one up.
        public var disconnectedByTime: [Int64]
        /// Disconnected things that never connected (no timestamp).
        public var neverConnected: Int64
        /// The disconnected things per disconnect reason, the most frequent first.
        public var reasons: [(reason: String, count: Int64)]
        /// Things in violation (an alarm in alarm) per security profile.
        public var violating: [String: Int64]

        public static func == (a: Summary, b: Summary) -> Bool {
            a.things == b.things && a.disconnected == b.disconnected && a.disconnectedByTime == b.disconnectedByTime
                && a.neverConnected == b.neverConnected && a.violating == b.violating
                && a.reasons.map(\.reason) == b.reasons.map(\.reason) && a.reasons.map(\.count) == b.reasons.map(\.count)
        }
    }

    /// The summary, with the disconnected things' timestamps counted against `boundaries`
    /// (ascending epoch milliseconds).
    public func summary(boundaries: [Int64]) throws -> Summary {
        guard zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw FleetError.invalid("boundaries must ascend")
        }
        let r = try store.summary(bounds: boundaries)
        return Summary(things: r.things, disconnected: r.disconnected, disconnectedByTime: r.ranges, neverConnected: r.neverConnected,
                       reasons: r.reasons.map { (reason: $0.0, count: $0.1) }, violating: r.violating)
    }

    /// GetBucketsAggregation (terms): the most frequent values, keys as strings, by count.
    public func buckets(query: String, field: String, maxBuckets: Int?, indexName: String? = nil, at now: Int64) throws -> JSONValue {
        try checkIndex(indexName)
        let limit = maxBuckets ?? 10
        guard (1...10_000).contains(limit) else { throw FleetError.invalid("termsAggregation.maxBuckets must be between 1 and 10000") }
        let ids = try matching(query, at: now)
        let src = try source(field)
        let total = try store.count(ids)
        let rows = try store.buckets(src.field, type: src.type, ids, limit: limit).map { b -> JSONValue in
            let k: String = src.type == .number ? JSONValue.double(b.number).compact : (src.type == .string ? b.first : b.key)
            return jsonObject([("keyValue", .string(k)), ("count", .int(b.count))])
        }
        return jsonObject([("totalCount", .int(total)), ("buckets", .array(rows))])
    }
}
