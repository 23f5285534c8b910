// Aggregations: each statistic against a computation in the test, on random fleets.
import FleetIndex
import FleetTestSupport
import Testing

@Suite struct AggregationTests {
    func fleet(backend: Backend = .sqlite, seed: UInt64) throws -> (FleetDatabase, [(String, Double?, String, Bool)]) {
        var rng = SplitMix64(seed: seed)
        let db = try Fixtures.database(backend)
        var rows: [(String, Double?, String, Bool)] = []
        for i in 0..<80 {
            let battery: Double? = rng.next() % 5 == 0 ? nil : Double(rng.next() % 100)
            let site = ["Denver", "boulder", "austin"][Int(rng.next() % 3)]
            var attrs = [("site", site)]
            if let battery { attrs.append(("battery", String(Int(battery)))) }
            _ = try Registry(db).createThing(name: "t\(i)", typeName: nil, attributes: attrs, at: 0)
            let on = rng.next() % 2 == 0
            if on { try Fixtures.ingest(db, [Fixtures.event("t\(i)", Fixtures.t0, .connected)]) }
            rows.append(("t\(i)", battery, site, on))
        }
        return (db, rows)
    }

    @Test(arguments: Backend.allCases, [1, 2, 3] as [UInt64])
    func statisticsMatchAComputation(_ backend: Backend, _ seed: UInt64) throws {
        let (db, rows) = try fleet(backend: backend, seed: seed)
        let agg = try Aggregations(db)
        let values = rows.filter { $0.3 }.compactMap(\.1)
        let s = try agg.statistics(query: "connectivity.connected:true", field: "attributes.battery", at: 0)["statistics"]!
        let n = Double(values.count), mean = values.reduce(0, +) / n
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        #expect(s["count"]?.int64Value == Int64(values.count))
        #expect(abs((s["average"]?.doubleValue ?? 0) - mean) < 1e-9)
        #expect(s["minimum"]?.doubleValue == values.min() && s["maximum"]?.doubleValue == values.max())
        #expect(abs((s["variance"]?.doubleValue ?? 0) - variance) < 1e-6)
        #expect(abs((s["stdDeviation"]?.doubleValue ?? 0) - variance.squareRoot()) < 1e-6)
        let c = try agg.cardinality(query: "*", field: "attributes.site", at: 0)
        #expect(c["cardinality"]?.int64Value == Int64(Set(rows.map { $0.2.lowercased() }).count))
        let p = try agg.percentiles(query: "*", field: "attributes.battery", percents: [0, 50, 100], at: 0)["percentiles"]!.arrayValue!
        let all = rows.compactMap(\.1).sorted()
        #expect(p[0]["value"]?.doubleValue == all.first && p[2]["value"]?.doubleValue == all.last)
        let mid = Double(all.count - 1) / 2
        #expect(p[1]["value"]?.doubleValue == all[Int(mid)] + (all[min(Int(mid) + 1, all.count - 1)] - all[Int(mid)]) * (mid - Double(Int(mid))))
        let b = try agg.buckets(query: "*", field: "attributes.site", maxBuckets: 2, at: 0)
        let counts = Dictionary(grouping: rows, by: { $0.2.lowercased() }).mapValues(\.count).sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        #expect(b["buckets"]?.arrayValue?.map { $0["count"]?.int64Value } == counts.prefix(2).map { Int64($0.value) })
        let fraction = try agg.statistics(query: "*", field: "connectivity.connected", at: 0)["statistics"]!["average"]?.doubleValue
        #expect(abs((fraction ?? -1) - Double(rows.filter(\.3).count) / Double(rows.count)) < 1e-9)
    }

    @Test(arguments: Backend.allCases) func emptyResultsAndTypeErrors(_ backend: Backend) throws {
        let (db, _) = try fleet(backend: backend, seed: 9)
        let agg = try Aggregations(db)
        #expect(try agg.statistics(query: "thingName:nobody", field: "attributes.battery", at: 0)["statistics"] == jsonObject([("count", .int(0))]))
        #expect(try agg.statistics(query: "*", field: "attributes.site", at: 0)["statistics"]?["average"] == nil)
        #expect(throws: FleetError.self) { try agg.percentiles(query: "*", field: "attributes.site", percents: nil, at: 0) }
        #expect(throws: FleetError.self) { try agg.buckets(query: "*", field: "registry.version", maxBuckets: 5, at: 0) }
        #expect(throws: FleetError.self) { try agg.buckets(query: "*", field: "attributes.site", maxBuckets: 10_001, at: 0) }
    }
}

/// `deviceDefender.violationCount` (a count per targeted thing, 0 included) through every
/// aggregation, against the things the search finds in violation.
@Suite struct ViolationCountAggregationTests {
    @Test(arguments: Backend.allCases) func everyAggregationReadsTheViolationCount(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        var events: [LifecycleEvent] = []
        for i in 0..<12 {
            _ = try Registry(db).createThing(name: "v\(i)", typeName: nil, attributes: [], at: 0)
            events.append(Fixtures.event("v\(i)", Fixtures.t0, .connected))
            if i % 3 == 0 { events.append(Fixtures.event("v\(i)", Fixtures.t0 + 1000, .disconnected, reason: "CONNECTION_LOST")) }
        }
        try Fixtures.ingest(db, events)
        let now = Fixtures.t0 + 3_600_000
        _ = try EvaluationCycle(db).evaluate(at: now)
        let violating = try Fixtures.search(db, "deviceDefender.P.*.inViolation:true", at: now).count
        #expect(violating == 4)
        let agg = try Aggregations(db)
        let field = "deviceDefender.violationCount"
        let s = try agg.statistics(query: "*", field: field, at: now)["statistics"]!
        #expect(s["count"]?.int64Value == 12)
        #expect(s["sum"]?.doubleValue == Double(violating))
        #expect(s["maximum"]?.doubleValue == 1 && s["minimum"]?.doubleValue == 0)
        #expect(try agg.cardinality(query: "*", field: field, at: now)["cardinality"]?.int64Value == 2)
        let p = try agg.percentiles(query: "*", field: field, percents: [0, 100], at: now)["percentiles"]?.arrayValue ?? []
        #expect(p.map { $0["value"]?.doubleValue } == [0, 1])
        let b = try agg.buckets(query: "*", field: field, maxBuckets: 5, at: now)["buckets"]?.arrayValue ?? []
        #expect(b.map { "\($0["keyValue"]?.stringValue ?? "?")=\($0["count"]?.int64Value ?? -1)" } == ["0=8", "1=4"])
    }
}

/// The overview's summary against the search's counts of the same things.
@Suite struct SummaryTests {
    @Test(arguments: Backend.allCases, [1, 2, 3] as [UInt64])
    func summaryMatchesTheSearch(_ backend: Backend, _ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let db = try Fixtures.database(backend)
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        var events: [LifecycleEvent] = []
        for i in 0..<60 {
            _ = try Registry(db).createThing(name: "s\(i)", typeName: nil, attributes: [], at: 0)
            switch rng.next() % 4 {
            case 0: break   // never connected
            case 1: events.append(Fixtures.event("s\(i)", Fixtures.t0, .connected))
            default:
                events.append(Fixtures.event("s\(i)", Fixtures.t0, .connected))
                events.append(Fixtures.event("s\(i)", Fixtures.t0 + Int64(rng.next() % 40) * 86_400_000 / 10, .disconnected,
                                             reason: ["CONNECTION_LOST", "CLIENT_INITIATED_DISCONNECT"][Int(rng.next() % 2)]))
            }
        }
        try Fixtures.ingest(db, events)
        let now = Fixtures.t0 + 5 * 86_400_000
        _ = try EvaluationCycle(db).evaluate(at: now)
        func n(_ q: String) throws -> Int64 { Int64(try Fixtures.search(db, q, at: now).count) }
        let bounds = [now - 3 * 86_400_000, now - 86_400_000, now - 3_600_000]
        let s = try Aggregations(db).summary(boundaries: bounds)
        #expect(s.things == 60)
        #expect(s.disconnected == (try n("connectivity.connected:false")))
        #expect(s.neverConnected == (try n("connectivity.connected:false AND NOT connectivity.timestamp:*")))
        let expected = [
            try n("connectivity.connected:false AND connectivity.timestamp<\(bounds[0])"),
            try n("connectivity.connected:false AND connectivity.timestamp>=\(bounds[0]) AND connectivity.timestamp<\(bounds[1])"),
            try n("connectivity.connected:false AND connectivity.timestamp>=\(bounds[1]) AND connectivity.timestamp<\(bounds[2])"),
            try n("connectivity.connected:false AND connectivity.timestamp>=\(bounds[2])"),
        ]
        #expect(s.disconnectedByTime == expected)
        #expect(s.disconnectedByTime.reduce(0, +) + s.neverConnected == s.disconnected)
        for r in ["CONNECTION_LOST", "CLIENT_INITIATED_DISCONNECT"] {
            let want = try n("connectivity.connected:false AND connectivity.disconnectReason:\(r)")
            #expect((s.reasons.first { $0.reason == r }?.count ?? 0) == want, "\(r)")
        }
        #expect((s.violating["P"] ?? 0) == (try n("deviceDefender.P.*.inViolation:true")))
        #expect((s.violating["P"] ?? 0) > 0)
        #expect(throws: FleetError.self) { try Aggregations(db).summary(boundaries: [5, 1]) }
    }
}
