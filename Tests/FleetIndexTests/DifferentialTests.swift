// Differential tests: for random fleets and random queries, the SQL result set equals the
// in-memory Evaluator's (SQLLogicTest's idea turned inward).
import FleetIndex
import FleetQuery
import FleetStorage
import FleetSQLite
import FleetTestSupport
import Testing

@Suite struct DifferentialTests {
    static let sites = ["denver", "Denver-2", "boulder", "austin", "site-01", "site-10"]
    static let models = ["P200", "P300", "TH-100", "5", "5.0", "07", "-3", "1e1"]

    static func fleet(backend: Backend = .sqlite, seed: UInt64) throws -> FleetDatabase {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        _ = try r.createThingType(name: "Pump", properties: nil, at: 0)
        _ = try r.createThingType(name: "Meter", properties: nil, at: 0)
        _ = try r.createThingGroup(name: "geo", parent: nil, properties: nil, at: 0)
        _ = try r.createThingGroup(name: "geo-eu", parent: "geo", properties: nil, at: 0)
        _ = try r.createThingGroup(name: "ops", parent: nil, properties: nil, at: 0)
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/registered-things"))
        var events: [LifecycleEvent] = []
        for i in 0..<60 {
            let name = "\(pick(["pump", "meter", "cam"]))-\(i)"
            var attrs: [(String, String)] = []
            if rng.next() % 4 != 0 { attrs.append(("site", pick(sites))) }
            if rng.next() % 2 == 0 { attrs.append(("model", pick(models))) }
            if rng.next() % 3 == 0 { attrs.append(("battery", String(rng.next() % 101))) }
            let type: String? = rng.next() % 3 == 0 ? nil : pick(["Pump", "Meter"])
            _ = try r.createThing(name: name, typeName: type, attributes: attrs, at: 0)
            if rng.next() % 2 == 0 { _ = try r.addThingToThingGroup(group: pick(["geo", "geo-eu", "ops"]), thingName: name, overrideDynamicGroups: false, at: 0) }
            if rng.next() % 2 == 0 {
                let temp = Double(Int(rng.next() % 200) - 100) / 2
                let doc = #"{"state":{"reported":{"temp":\#(temp),"mode":"\#(pick(["eco", "ECO", "boost"]))","tags":["a","\#(pick(["b", "c"]))"],"on":\#(rng.next() % 2 == 0)},"desired":{"mode":"eco"}}}"#
                _ = try r.updateThingShadow(thingName: name, shadowName: rng.next() % 4 == 0 ? "gps" : nil, payload: try JSONValue.parse(doc), at: 0)
            }
            switch rng.next() % 3 {
            case 0: break
            case 1: events.append(Fixtures.event(name, Fixtures.t0 + Int64(i) * 1000, .connected))
            default:
                events.append(Fixtures.event(name, Fixtures.t0 + Int64(i) * 1000, .connected))
                events.append(Fixtures.event(name, Fixtures.t0 + Int64(i) * 1000 + Int64(rng.next() % 3_000_000), .disconnected,
                                             reason: pick(["CONNECTION_LOST", "CLIENT_ERROR"])))
            }
        }
        try Fixtures.ingest(db, events)
        _ = try EvaluationCycle(db).evaluate(at: Fixtures.t0 + 3_600_000)
        return db
    }

    static func randomQuery(_ rng: inout SplitMix64, depth: Int = 0) -> String {
        func pick(_ xs: [String]) -> String { xs[Int(rng.next() % UInt64(xs.count))] }
        let leaves = [
            "thingName:\(pick(["pump-*", "*-1?", "meter-3", "CAM-*"]))", "thingTypeName:\(pick(["pump", "Meter", "*", "P*"]))",
            "thingGroupNames:\(pick(["geo", "geo-eu", "ops", "g*"]))", "attributes.site:\(pick(sites + ["den*", "site-0?"]))",
            "attributes.model:\(pick(models))", "attributes.battery\(pick([">", "<=", ":"]))\(rng.next() % 100)",
            "attributes.battery:[\(rng.next() % 50) TO \(50 + rng.next() % 50)}", "attributes.site:{b TO d]",
            "shadow.reported.temp\(pick([">", "<", ">="]))\(Int(rng.next() % 100) - 50)", "shadow.reported.mode:\(pick(["eco", "boost", "e*"]))",
            "shadow.reported.tags:\(pick(["a", "b", "c"]))", "shadow.reported.on:\(pick(["true", "false"]))", "shadow.hasDelta:\(pick(["true", "false"]))",
            "shadow.name.*.reported.mode:eco", "shadow.reported:*", "shadow.delta.mode:*",
            "connectivity.connected:\(pick(["true", "false"]))", "connectivity.timestamp:*", "connectivity.disconnectReason:\(pick(["connection_lost", "*_ERROR", "*"]))",
            "connectivity.timestamp<now-\(rng.next() % 60)m", "deviceDefender.P.*.inViolation:true", "deviceDefender.violationCount:\(pick(["0", "1", "*"]))",
            "deviceDefender.*.B.lastViolationValue.count>=\(rng.next() % 60)", pick(["eco", "denver", "geo", "pump*"]), "attributes.site:*",
        ]
        if depth > 2 || rng.next() % 3 == 0 { return pick(leaves) }
        let a = randomQuery(&rng, depth: depth + 1), b = randomQuery(&rng, depth: depth + 1)
        switch rng.next() % 4 {
        case 0: return "(\(a) AND \(b))"
        case 1: return "(\(a) OR \(b))"
        case 2: return "NOT \(a)"
        default: return "\(a) -\(b.hasPrefix("-") || b.hasPrefix("NOT") ? "(\(b))" : b)"
        }
    }

    static let plannings: [(String, SQLLowering.Estimator)] = [
        ("every predicate large", { _, _, _ in SQLLowering.estimateCap }),
        ("connectivity large, the rest small", { f, _, _ in f == .connected ? SQLLowering.estimateCap : 3 }),
        ("groups smallest", { f, _, _ in f == .thingGroupNames ? 1 : 50 }),
    ]

    @Test(arguments: Backend.allCases, [1, 2, 3] as [UInt64])
    func sqlEqualsEvaluator(_ backend: Backend, _ seed: UInt64) throws {
        let db = try Self.fleet(backend: backend, seed: seed)
        let now = Fixtures.t0 + 3_600_000
        let search = Search(db)
        let ids = try db.connection.query("SELECT id FROM thing") { $0.int(0) }
        let states = try ids.compactMap { try search.thingState($0) }
        var rng = SplitMix64(seed: seed * 7919)
        var nonEmpty = 0
        for _ in 0..<150 {
            let q = Self.randomQuery(&rng)
            let compiled = try search.compile(q, at: now)
            let sql = Set(try Fixtures.search(db, q, at: now))
            let oracle = Set(states.filter { Evaluator.evaluate(compiled.bound, $0) }.map(\.name))
            #expect(sql == oracle, "\(q): sql-only \(sql.subtracting(oracle).sorted()) evaluator-only \(oracle.subtracting(sql).sorted())")
            // The planner's other shapes give the same things: walking the name order with
            // probes (every predicate large), and a driver with probes inside its subquery.
            for (label, estimate) in Self.plannings {
                var planned = compiled
                planned.condition = SQLLowering(dialect: db.connection.queryDialect, estimate: estimate, ordered: true).lower(compiled.bound)
                let got = Set(try search.page(planned, after: "", limit: 1_000_000).map(\.1))
                #expect(got == oracle, "\(q) planned \(label): \(planned.condition.sql)")
            }
            if !sql.isEmpty && sql.count < ids.count { nonEmpty += 1 }
        }
        #expect(nonEmpty > 30, "the random queries should select something")
    }

    /// Every probe kind under every planning, on queries that are sure to combine them.
    @Test(arguments: Backend.allCases, [1, 2] as [UInt64])
    func plannedConjunctionsEqualEvaluator(_ backend: Backend, _ seed: UInt64) throws {
        let db = try Self.fleet(backend: backend, seed: seed)
        let now = Fixtures.t0 + 3_600_000
        let search = Search(db)
        let states = try db.connection.query("SELECT id FROM thing") { $0.int(0) }.compactMap { try search.thingState($0) }
        var queries: [String] = []
        for site in Self.sites.prefix(3) {
            for model in Self.models.prefix(2) {
                for connected in ["true", "false"] {
                    queries += [
                        "connectivity.connected:\(connected) AND attributes.site:\(site)",
                        "attributes.model:\(model) AND attributes.site:\(site) AND connectivity.connected:\(connected)",
                        "thingGroupNames:geo AND connectivity.connected:\(connected) AND attributes.model:\(model)",
                        "thingGroupNames:g* AND attributes.site:\(site)",
                        "shadow.reported.on:\(connected) AND attributes.model:\(model)",
                        "deviceDefender.P.*.inViolation:true AND attributes.site:\(site)",
                        "attributes.site:\(site) AND NOT thingGroupNames:ops AND connectivity.connected:\(connected)",
                    ]
                }
            }
        }
        for q in queries {
            let compiled = try search.compile(q, at: now)
            let oracle = Set(states.filter { Evaluator.evaluate(compiled.bound, $0) }.map(\.name))
            for (label, estimate) in Self.plannings {
                var planned = compiled
                planned.condition = SQLLowering(dialect: db.connection.queryDialect, estimate: estimate, ordered: true).lower(compiled.bound)
                let got = Set(try search.page(planned, after: "", limit: 1_000_000).map(\.1))
                #expect(got == oracle, "\(q) planned \(label): \(planned.condition.sql)")
            }
        }
    }
}
