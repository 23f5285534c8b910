// fleetdex: the fleet index's aggregations.
import ArgumentParser
import FleetIndex

/// The flags every aggregation takes.
struct AggregationQuery: ParsableArguments {
    @Option var indexName: String?
    @Option(parsing: .unconditional, help: "The query, or @NAME for a saved query.") var queryString: String
    @Option var queryVersion: String?
}

struct GetStatistics: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-statistics", abstract: "Count, average, sum, min, max, variance of a field over the matching things.",
        discussion: example("fleetdex get-statistics --query-string 'thingTypeName:Pump' --aggregation-field shadow.reported.temp"))
    @OptionGroup var g: GlobalOptions
    @OptionGroup var q: AggregationQuery
    @Option var aggregationField: String?
    func run() throws {
        let db = try g.open()
        Output.emit(try Aggregations(db).statistics(query: try g.savedQueries().resolve(q.queryString), field: aggregationField, indexName: q.indexName, at: try g.now()), try g.format())
    }
}

struct GetCardinality: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-cardinality", abstract: "The number of distinct values of a field over the matching things.",
        discussion: example("fleetdex get-cardinality --query-string '*' --aggregation-field attributes.site"))
    @OptionGroup var g: GlobalOptions
    @OptionGroup var q: AggregationQuery
    @Option var aggregationField: String?
    func run() throws {
        let db = try g.open()
        Output.emit(try Aggregations(db).cardinality(query: try g.savedQueries().resolve(q.queryString), field: aggregationField, indexName: q.indexName, at: try g.now()), try g.format())
    }
}

struct GetPercentiles: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-percentiles", abstract: "Percentiles of a number field (default 1 5 25 50 75 95 99).",
        discussion: example("fleetdex get-percentiles --query-string 'connectivity.connected:true' --aggregation-field shadow.reported.battery --percents 5 50 95"))
    @OptionGroup var g: GlobalOptions
    @OptionGroup var q: AggregationQuery
    @Option var aggregationField: String
    @Option(parsing: .upToNextOption) var percents: [Double] = []
    func run() throws {
        let db = try g.open()
        Output.emit(try Aggregations(db).percentiles(query: try g.savedQueries().resolve(q.queryString), field: aggregationField,
                                                     percents: percents.isEmpty ? nil : percents, indexName: q.indexName, at: try g.now()), try g.format())
    }
}

struct GetBucketsAggregation: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-buckets-aggregation", abstract: "The most frequent values of a field (terms buckets); --output table draws a bar per bucket.",
        discussion: example(#"fleetdex get-buckets-aggregation --query-string 'connectivity.connected:false' --aggregation-field attributes.site --buckets-aggregation-type '{"termsAggregation":{"maxBuckets":20}}' --output table"#))
    @OptionGroup var g: GlobalOptions
    @OptionGroup var q: AggregationQuery
    @Option var aggregationField: String
    @Option var bucketsAggregationType: String
    func run() throws {
        let db = try g.open()
        let type = try structured(bucketsAggregationType, "--buckets-aggregation-type")
        guard let terms = type["termsAggregation"] else {
            throw FleetError.invalid("--buckets-aggregation-type must hold termsAggregation, e.g. {\"termsAggregation\":{\"maxBuckets\":10}}")
        }
        let maxBuckets = terms["maxBuckets"].flatMap { $0.int64Value.map(Int.init) }
        let r = try Aggregations(db).buckets(query: try g.savedQueries().resolve(q.queryString), field: aggregationField, maxBuckets: maxBuckets,
                                             indexName: q.indexName, at: try g.now())
        let format = try g.format()
        guard format == .table else { return Output.emit(r, format) }
        let buckets = (r["buckets"]?.arrayValue ?? []).map { ($0["keyValue"]?.stringValue ?? "", $0["count"]?.int64Value ?? 0) }
        let total = r["totalCount"]?.int64Value ?? 0
        let width = buckets.map(\.0.count).max() ?? 0
        let most = max(1, buckets.map(\.1).max() ?? 1)
        var out = "\(aggregationField) over \(total) matching thing(s)\n"
        for (k, n) in buckets {
            let bar = String(repeating: "█", count: Int((Double(n) / Double(most) * 40).rounded(.up)))
            out += k + String(repeating: " ", count: width - k.count) + "  " + bar + " \(n)\n"
        }
        if buckets.isEmpty { out += "(no values)\n" }
        Output.write(out)
    }
}
