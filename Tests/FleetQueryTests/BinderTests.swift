// Binder tests: fields resolve to the catalog with typed values; bad fields and values are
// rejected with the span of the segment or value at fault.
import FleetQuery
import Testing

@Suite struct BinderTests {
    let now: Int64 = 1_800_000_000_000

    @Test(arguments: [
        ("thingName:Pump-17", #"(thingName "pump-17")"#),
        ("attributes.batteryPct:26", "(attributes.batteryPct (= 26))"),
        ("attributes.batteryPct:2.6e1", "(attributes.batteryPct (= 26))"),
        ("attributes.hwRev:07", #"(attributes.hwRev "07")"#),
        (#"attributes.hwRev:"5""#, #"(attributes.hwRev "5")"#),
        ("attributes.serial:{SN2 TO SN4}", "(attributes.serial (text-range {sn2 sn4}))"),
        ("attributes.n:[20 TO 40}", "(attributes.n (num-range [20 40}))"),
        ("attributes.n>96", "(attributes.n (num-range {96 *))"),
        ("shadow.reported.charging:true", "(shadow.reported.charging true)"),
        ("shadow.name.*.hasDelta:true", "((fields shadow.name.*.hasDelta) true)"),
        ("connectivity.connected:false", "(connectivity.connected false)"),
        ("connectivity.timestamp<now-30d", "(connectivity.timestamp (num-range * 1797408000000}))"),
        ("connectivity.timestamp:[now-3h TO now-1h]", "(connectivity.timestamp (num-range [1799989200000 1799996400000]))"),
        ("deviceDefender.P.*.inViolation:true", "(deviceDefender.P.*.inViolation true)"),
        ("deviceDefender.*.*.lastViolationValue.count>=5", "(deviceDefender.*.*.lastViolationValue.count (num-range [5 *))"),
        ("deviceDefender.violationCount:2", "(deviceDefender.violationCount (= 2))"),
        ("canary*", #"(* (glob "canary*"))"#),
        ("*", "all"),
    ])
    func binds(_ query: String, _ expected: String) throws {
        #expect(try Binder.compile(query, now: now).sexpr == expected)
    }

    @Test(arguments: [
        ("deviceDefender.P.B.inViolation:false", "inViolation:false is not searchable (as in AWS): write NOT deviceDefender.P.B.inViolation:true", 31, 36),
        ("thingNme:x", "unknown field 'thingNme'; did you mean 'thingName'?", 0, 8),
        ("connectivity.connected:maybe", "connectivity.connected is a boolean: write true or false", 23, 28),
        ("connectivity.timestamp>yesterday", "connectivity.timestamp is a number: 'yesterday' is not one (epoch ms or now-5m, now-1h, now-30d)", 23, 32),
        ("connectivity.version:1", "connectivity.version is not searchable", 0, 20),
        ("registry.version:1", "registry.version is not searchable", 0, 16),
        ("shadow.version:1", "shadow.version is not searchable", 0, 14),
        ("deviceDefender.P.B.inViolaton:true", "unknown violation field 'inViolaton'; did you mean 'inViolation'?", 19, 29),
    ])
    func rejects(_ query: String, _ message: String, _ start: Int, _ end: Int) {
        #expect(throws: QueryError(phase: .bind, message: message, span: SourceSpan(start: start, end: end))) {
            try Binder.compile(query, now: now)
        }
    }

    @Test func awsLimitsRejectLeadingWildcardsAndLongQueries() {
        #expect(throws: QueryError.self) { try Binder.compile("thingName:*7", now: now, awsLimits: true) }
        let long = (1...13).map { "a:\($0)" }.joined(separator: " OR ")
        #expect(throws: QueryError.self) { try Binder.compile(long.replacingOccurrences(of: "a:", with: "attributes.a:"), now: now, awsLimits: true) }
        #expect(throws: Never.self) { try Binder.compile("thingName:*7", now: now) }
    }

    @Test func modesTurnedOffAreNamed() {
        let catalog = FieldCatalog(connectivity: false)
        #expect {
            try Binder.compile("connectivity.connected:true", catalog: catalog, now: now)
        } throws: { e in
            (e as? QueryError)?.message.contains("thingConnectivityIndexingMode") == true
        }
    }

    @Test func caretRendering() throws {
        let e = try #require(throws: QueryError.self) { try Parser.parse("attributes.site:") }
        #expect(e.rendered(in: "attributes.site:") == """
            error[parse]: expected a value after ':', found end of query
              | attributes.site:
              |                 ^
            """)
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
