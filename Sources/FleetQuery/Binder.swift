// FleetQuery, stage 3: resolves field paths against the FieldCatalog and types values,
// turning a Syntax tree into a BoundQuery. Errors point at the segment or value at fault.

/// Binds parsed queries.
///
/// For example, `try Binder.bind(Parser.parse("attributes.batteryPct>96"), catalog: .init(), now: 0)`
/// gives `.predicate(.leaf(path: "attributes.batteryPct", isPattern: false), .numberRange(...))`.
public struct Binder: Sendable {
    public var catalog: FieldCatalog
    /// `now` in epoch ms, for `now-30d` in time fields (the command's `--at`).
    public var now: Int64
    /// Enforce AWS's limits (12 terms, no leading wildcard...).
    public var awsLimits: Bool

    public init(catalog: FieldCatalog = FieldCatalog(), now: Int64, awsLimits: Bool = false) {
        self.catalog = catalog
        self.now = now
        self.awsLimits = awsLimits
    }

    /// Parses and binds in one step.
    public static func compile(_ source: String, catalog: FieldCatalog = FieldCatalog(), now: Int64,
                               awsLimits: Bool = false) throws(QueryError) -> BoundQuery {
        let syntax = try Parser.parse(source)
        return try Binder(catalog: catalog, now: now, awsLimits: awsLimits).bind(syntax)
    }

    public static func bind(_ syntax: Syntax, catalog: FieldCatalog = FieldCatalog(), now: Int64) throws(QueryError) -> BoundQuery {
        try Binder(catalog: catalog, now: now).bind(syntax)
    }

    public func bind(_ syntax: Syntax) throws(QueryError) -> BoundQuery {
        let terms = try checkShape(syntax)
        if awsLimits { try checkAWSLimits(terms) }
        return try bindNode(syntax)
    }

    // The limits every query is held to, so that a query either fails here, positioned, or
    // becomes SQL that SQLite accepts (its limits are a 1,000-deep expression tree, a 100-deep
    // parser stack and 50,000-byte GLOB patterns; measured through `fleetdex search`, the
    // lowered SQL first fails at 992 OR'ed terms, 493 AND'ed group terms, 38 nested NOTs and
    // 25 nested alternating AND/OR groups). Each limit is well below what fails, and
    // FuzzRegressionTests runs the largest and deepest accepted queries on SQLite.

    /// Terms (clauses) in a query. An OR of n terms lowers to an n-deep expression chain and
    /// an AND of n probed terms to about 2n: 256 stays under half of SQLite's 1,000 with any
    /// nesting allowed. This also bounds the width of any one OR or AND.
    public static let maxTerms = 256

    /// Nested NOT, AND and OR nodes on one path of the tree (`a OR b` is 1, `NOT (a OR b)` 2).
    /// Each level costs SQLite's parser 3 to 4 of its 100 stack slots; 16 leaves room for the
    /// deepest predicate and the planner's joins.
    public static let maxNesting = 16

    /// The bytes of one value or field path. A value becomes a GLOB pattern of up to 3 bytes a
    /// byte (escaped `*`, `?`, `[`), lower-casing grows text by at most half: 8 KiB stays
    /// under SQLite's 50,000-byte pattern limit. (AWS's own: attribute values 800 bytes.)
    public static let maxTermBytes = 8_192

    /// Checks the limits above without recursion (the tree may be as deep as the parser
    /// allows, or deeper when built by hand) and returns the terms in query order.
    private func checkShape(_ syntax: Syntax) throws(QueryError) -> [Syntax] {
        var terms: [Syntax] = []
        var stack: [(node: Syntax, depth: Int)] = [(syntax, 0)]
        while let (node, depth) = stack.popLast() {
            switch node {
            case .and(let xs, let span), .or(let xs, let span):
                guard depth < Binder.maxNesting else { throw tooDeep(span) }
                for x in xs.reversed() { stack.append((x, depth + 1)) }
            case .not(let x, let span):
                guard depth < Binder.maxNesting else { throw tooDeep(span) }
                stack.append((x, depth + 1))
            case .term(let field, let test, _):
                terms.append(node)
                guard terms.count <= Binder.maxTerms else {
                    var total = terms.count
                    for (n, _) in stack { total += n.termCount }
                    throw err("the query has \(total) terms; at most \(Binder.maxTerms) are allowed", node.span)
                }
                if let field, field.text.utf8.count > Binder.maxTermBytes {
                    throw err("a field name is at most \(Binder.maxTermBytes) bytes (this one is \(field.text.utf8.count))", field.span)
                }
                for v in test.values where v.text.utf8.count > Binder.maxTermBytes {
                    throw err("a value is at most \(Binder.maxTermBytes) bytes (this one is \(v.text.utf8.count))", v.span)
                }
            }
        }
        return terms
    }

    private func tooDeep(_ span: SourceSpan) -> QueryError {
        err("NOT, AND and OR nest more than \(Binder.maxNesting) levels deep here: simplify the query", span)
    }

    private func checkAWSLimits(_ terms: [Syntax]) throws(QueryError) {
        if terms.count > 12 {
            throw QueryError(phase: .bind, message: "AWS allows at most 12 terms in a query (this one has \(terms.count)); drop --aws-limits to search anyway", span: terms[12].span)
        }
        for case .term(_, let test, _) in terms {
            if case .equals(let v) = test, let p = v.pattern, p.hasPrefix("*") || p.hasPrefix("?") {
                throw QueryError(phase: .bind, message: "AWS does not allow a leading wildcard; drop --aws-limits to search anyway", span: v.span)
            }
        }
    }

    private func bindNode(_ s: Syntax) throws(QueryError) -> BoundQuery {
        switch s {
        case .and(let xs, _):
            var out: [BoundQuery] = []
            for x in xs { out.append(try bindNode(x)) }
            return .and(out)
        case .or(let xs, _):
            var out: [BoundQuery] = []
            for x in xs { out.append(try bindNode(x)) }
            return .or(out)
        case .not(let x, _):
            return .not(try bindNode(x))
        case .term(let field, let test, _):
            guard let field else { return try bindBare(test) }
            return try bindTerm(field, test)
        }
    }

    private func bindBare(_ test: SyntaxTest) throws(QueryError) -> BoundQuery {
        switch test {
        case .exists: return .all
        case .equals(let v):
            if let p = v.pattern { return .predicate(.anyText, .textGlob(p.lowercased())) }
            return .predicate(.anyText, .textEquals(v.text.lowercased()))
        default: return .all
        }
    }

    private func err(_ message: String, _ span: SourceSpan) -> QueryError {
        QueryError(phase: .bind, message: message, span: span)
    }

    private func modeOff(_ mode: String, _ path: FieldPath) -> QueryError {
        err("\(path.segments[0]) fields are not indexed: the indexing configuration has \(mode) turned off", path.span)
    }

    /// Resolves a field path.
    func resolve(_ path: FieldPath) throws(QueryError) -> BoundField {
        let seg = path.segments
        let rest = seg.dropFirst().joined(separator: ".")
        switch seg[0] {
        case "thingName", "thingId", "thingTypeName", "thingGroupNames":
            guard seg.count == 1 else { throw err("\(seg[0]) has no sub-fields", path.spans[1].union(path.span)) }
            guard catalog.registry else { throw modeOff("thingIndexingMode", path) }
            return switch seg[0] {
            case "thingName": .thingName
            case "thingId": .thingId
            case "thingTypeName": .thingTypeName
            default: .thingGroupNames
            }
        case "attributes":
            guard catalog.registry else { throw modeOff("thingIndexingMode", path) }
            guard seg.count >= 2 else { throw err("name an attribute: attributes.<name>", path.span) }
            return .leaf(path: "attributes." + rest, isPattern: false)
        case "registry":
            throw err("registry.version is not searchable", path.span)
        case "shadow":
            guard catalog.registry && catalog.shadow else { throw modeOff("thingIndexingMode REGISTRY_AND_SHADOW", path) }
            guard seg.count >= 2 else { throw err("name a shadow section: shadow.reported.<path>, shadow.desired, shadow.delta, shadow.hasDelta or shadow.name.<shadow>", path.span) }
            if seg[1] == "name" {
                guard catalog.namedShadows else { throw modeOff("namedShadowIndexingMode", path) }
                guard seg.count >= 4 else { throw err("expected shadow.name.<shadow>.reported|desired|delta.<path> or shadow.name.<shadow>.hasDelta", path.span) }
                let name = seg[2]
                let section = seg[3]
                try checkSection(Array(seg[3...]), spans: Array(path.spans[3...]), path: path)
                let tail = seg[3...].joined(separator: ".")
                _ = section
                if name == "*" {
                    return .leaf(path: "shadow.name.*." + Lexer.literalGlob(tail), isPattern: true)
                }
                return .leaf(path: "shadow.name.\(name).\(tail)", isPattern: false)
            }
            try checkSection(Array(seg[1...]), spans: Array(path.spans[1...]), path: path)
            return .leaf(path: "shadow." + rest, isPattern: false)
        case "connectivity":
            guard catalog.connectivity else { throw modeOff("thingConnectivityIndexingMode", path) }
            guard seg.count == 2 else { throw err("expected connectivity.connected, connectivity.timestamp or connectivity.disconnectReason", path.span) }
            switch seg[1] {
            case "connected": return .connected
            case "timestamp": return .connectivityTimestamp
            case "disconnectReason": return .disconnectReason
            case "version": throw err("connectivity.version is not searchable", path.span)
            default:
                throw err("unknown field connectivity.\(seg[1])" + suggestion(seg[1], ["connected", "timestamp", "disconnectReason"]), path.spans[1])
            }
        case "deviceDefender":
            guard catalog.deviceDefender else { throw modeOff("deviceDefenderIndexingMode", path) }
            if seg.count == 2 && seg[1] == "violationCount" { return .violationCount }
            guard seg.count >= 4 else {
                throw err("expected deviceDefender.violationCount or deviceDefender.<profile>.<behavior>.inViolation|metricName|lastViolationTime|lastViolationValue.count", path.span)
            }
            let attr = seg[3...].joined(separator: ".")
            guard let a = ViolationAttribute(rawValue: attr) else {
                throw err("unknown violation field '\(attr)'" + suggestion(attr, ["inViolation", "metricName", "lastViolationTime", "lastViolationValue.count", "lastViolationValue.number"]),
                          path.spans[3].union(path.spans.last!))
            }
            return .violation(profile: seg[1] == "*" ? nil : seg[1], behavior: seg[2] == "*" ? nil : seg[2], a)
        default:
            throw err("unknown field '\(path.text)'" + suggestion(seg[0], FieldCatalog.roots), path.spans[0])
        }
    }

    private func checkSection(_ seg: [String], spans: [SourceSpan], path: FieldPath) throws(QueryError) {
        switch seg[0] {
        case "hasDelta":
            guard seg.count == 1 else { throw err("hasDelta has no sub-fields", spans[0].union(spans.last!)) }
        case "reported", "desired", "delta":
            break  // `shadow.reported:*` asks whether any leaf exists under it
        case "version":
            throw err("shadow.version is not searchable", path.span)
        default:
            throw err("unknown shadow section '\(seg[0])'" + suggestion(seg[0], ["reported", "desired", "delta", "hasDelta", "name"]), spans[0])
        }
    }

    private func suggestion(_ word: String, _ candidates: [String]) -> String {
        let best = candidates.map { ($0, editDistance($0.lowercased(), word.lowercased())) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(2, word.count / 3) else {
            return " (fields: " + candidates.joined(separator: ", ") + ")"
        }
        return "; did you mean '\(best.0)'?"
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }

    private enum Kind { case text, number, bool, time, dynamic }

    private func kind(of field: BoundField) -> Kind {
        switch field {
        case .thingName, .thingId, .thingTypeName, .thingGroupNames, .disconnectReason, .anyText: .text
        case .violation(_, _, .metricName): .text
        case .connected, .violation(_, _, .inViolation): .bool
        case .connectivityTimestamp, .violation(_, _, .lastViolationTime): .time
        case .violationCount, .violation: .number
        case .leaf: .dynamic
        }
    }

    /// A value as a number: a JSON number literal, or `now[-N(s|m|h|d|w)]` in time fields.
    private func number(_ v: QueryValue, time: Bool) -> Double? {
        if v.quoted || v.pattern != nil { return nil }
        if let d = JSONNumber.parse(v.text) { return d }
        if time { return relativeTime(v.text).map(Double.init) }
        return nil
    }

    /// `now`, `now-5m`, `now+1d` (s, m, h, d, w) in epoch ms; nil for anything else.
    public func relativeTime(_ s: String) -> Int64? {
        guard s.hasPrefix("now") else { return nil }
        let rest = s.dropFirst(3)
        if rest.isEmpty { return now }
        guard let sign = rest.first, sign == "-" || sign == "+" else { return nil }
        let body = rest.dropFirst()
        guard let unit = body.last, let n = Int64(body.dropLast()), n >= 0 else { return nil }
        let ms: Int64
        switch unit {
        case "s": ms = 1000
        case "m": ms = 60_000
        case "h": ms = 3_600_000
        case "d": ms = 86_400_000
        case "w": ms = 7 * 86_400_000
        default: return nil
        }
        let (prod, overflow) = n.multipliedReportingOverflow(by: ms)
        guard !overflow else { return nil }
        return sign == "-" ? now &- prod : now &+ prod
    }

    private func bindTerm(_ path: FieldPath, _ test: SyntaxTest) throws(QueryError) -> BoundQuery {
        let field = try resolve(path)
        let k = kind(of: field)
        switch test {
        case .exists:
            if case .violation(_, _, .inViolation) = field { return .predicate(field, .bool(true)) }
            return .predicate(field, .exists)
        case .equals(let v):
            switch k {
            case .text:
                if let p = v.pattern { return .predicate(field, .textGlob(p.lowercased())) }
                return .predicate(field, .textEquals(v.text.lowercased()))
            case .bool:
                guard v.pattern == nil, !v.quoted, v.text == "true" || v.text == "false" else {
                    throw err("\(path.text) is a boolean: write true or false", v.span)
                }
                if case .violation(_, _, .inViolation) = field, v.text == "false" {
                    throw err("inViolation:false is not searchable (as in AWS): write NOT \(path.text):true", v.span)
                }
                return .predicate(field, .bool(v.text == "true"))
            case .number, .time:
                guard let d = number(v, time: k == .time) else { throw notNumber(path, v, time: k == .time) }
                return .predicate(field, .numberEquals(d))
            case .dynamic:
                if let p = v.pattern { return .predicate(field, .textGlob(p.lowercased())) }
                if !v.quoted, let d = JSONNumber.parse(v.text) { return .predicate(field, .numberEquals(d)) }
                if !v.quoted, v.text == "true" || v.text == "false" { return .predicate(field, .bool(v.text == "true")) }
                return .predicate(field, .textEquals(v.text.lowercased()))
            }
        case .compare(let op, let v):
            let lo = op == .gt || op == .ge
            let incl = op == .ge || op == .le
            return try bindRange(field, k, path, lo ? v : nil, lo ? incl : true, lo ? nil : v, lo ? true : incl)
        case .range(let lo, let hi):
            return try bindRange(field, k, path, lo?.value, lo?.inclusive ?? true, hi?.value, hi?.inclusive ?? true)
        }
    }

    private func notNumber(_ path: FieldPath, _ v: QueryValue, time: Bool) -> QueryError {
        err("\(path.text) is a number: '\(v.text)' is not one" + (time ? " (epoch ms or now-5m, now-1h, now-30d)" : ""), v.span)
    }

    private func bindRange(_ field: BoundField, _ k: Kind, _ path: FieldPath,
                           _ lo: QueryValue?, _ loIncl: Bool, _ hi: QueryValue?, _ hiIncl: Bool) throws(QueryError) -> BoundQuery {
        for v in [lo, hi].compactMap({ $0 }) where v.pattern != nil {
            throw err("a range bound cannot hold a wildcard", v.span)
        }
        switch k {
        case .bool:
            throw err("\(path.text) is a boolean: ranges do not apply", path.span)
        case .number, .time:
            var nlo: Bound<Double>? = nil
            var nhi: Bound<Double>? = nil
            if let lo {
                guard let d = number(lo, time: k == .time) else { throw notNumber(path, lo, time: k == .time) }
                nlo = Bound(d, inclusive: loIncl)
            }
            if let hi {
                guard let d = number(hi, time: k == .time) else { throw notNumber(path, hi, time: k == .time) }
                nhi = Bound(d, inclusive: hiIncl)
            }
            return .predicate(field, .numberRange(nlo, nhi))
        case .text:
            return .predicate(field, .textRange(lo.map { Bound($0.text.lowercased(), inclusive: loIncl) },
                                                hi.map { Bound($0.text.lowercased(), inclusive: hiIncl) }))
        case .dynamic:
            let nlo = lo.flatMap { number($0, time: false) }
            let nhi = hi.flatMap { number($0, time: false) }
            if (lo == nil || nlo != nil) && (hi == nil || nhi != nil) {
                return .predicate(field, .numberRange(nlo.map { Bound($0, inclusive: loIncl) }, nhi.map { Bound($0, inclusive: hiIncl) }))
            }
            return .predicate(field, .textRange(lo.map { Bound($0.text.lowercased(), inclusive: loIncl) },
                                                hi.map { Bound($0.text.lowercased(), inclusive: hiIncl) }))
        }
    }
}

extension Syntax {
    /// The terms of the tree, counted without recursion.
    var termCount: Int {
        var n = 0
        var stack = [self]
        while let s = stack.popLast() {
            switch s {
            case .and(let xs, _), .or(let xs, _): stack += xs
            case .not(let x, _): stack.append(x)
            case .term: n += 1
            }
        }
        return n
    }
}

extension SyntaxTest {
    /// The values a test compares with.
    var values: [QueryValue] {
        switch self {
        case .exists: []
        case .equals(let v), .compare(_, let v): [v]
        case .range(let lo, let hi): [lo?.value, hi?.value].compactMap { $0 }
        }
    }
}

/// JSON number literals: `5`, `-0.25`, `1e1`; not `07`, `0x10`, `.5`, `5.`.
public enum JSONNumber {
    public static func parse(_ s: String) -> Double? {
        guard isLiteral(s) else { return nil }
        return Double(s)
    }

    public static func isLiteral(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        func digit(_ i: Int) -> Bool { i < b.count && b[i] >= 48 && b[i] <= 57 }
        if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { return false }
        if b[i] == 48 { i += 1 } else { while digit(i) { i += 1 } }
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        return i == b.count
    }
}
