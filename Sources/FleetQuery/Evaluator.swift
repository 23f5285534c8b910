// FleetQuery: evaluates a BoundQuery against one thing held in memory. It is the oracle
// the differential tests compare the SQL against, and it re-checks a single changed thing
// without a fleet-wide query.

/// One indexed leaf value of a thing (an attribute or a shadow value), as stored.
public struct FieldValue: Equatable, Sendable {
    public var field: String
    public var lower: String?
    public var num: Double?
    public var flag: Bool?
    public init(field: String, lower: String? = nil, num: Double? = nil, flag: Bool? = nil) {
        self.field = field
        self.lower = lower
        self.num = num
        self.flag = flag
    }
}

/// An active violation of a thing.
public struct ViolationState: Equatable, Sendable {
    public var profile: String
    public var behavior: String
    public var metric: String
    public var lastTime: Int64?
    public var lastValue: Double?
    public init(profile: String, behavior: String, metric: String, lastTime: Int64?, lastValue: Double?) {
        self.profile = profile
        self.behavior = behavior
        self.metric = metric
        self.lastTime = lastTime
        self.lastValue = lastValue
    }
}

/// Everything the query language can see of one thing.
public struct ThingState: Equatable, Sendable {
    public var name: String
    public var thingId: String
    public var typeName: String?
    /// Groups the thing is in, directly or through a descendant group (names as stored).
    public var groupNames: [String]
    public var fields: [FieldValue]
    public var connected: Bool
    public var connectivityTimestamp: Int64?
    public var disconnectReason: String?
    /// nil when no attached profile targets the thing.
    public var violationCount: Int?
    public var violations: [ViolationState]

    public init(name: String, thingId: String, typeName: String? = nil, groupNames: [String] = [],
                fields: [FieldValue] = [], connected: Bool = false, connectivityTimestamp: Int64? = nil,
                disconnectReason: String? = nil, violationCount: Int? = nil, violations: [ViolationState] = []) {
        self.name = name
        self.thingId = thingId
        self.typeName = typeName
        self.groupNames = groupNames
        self.fields = fields
        self.connected = connected
        self.connectivityTimestamp = connectivityTimestamp
        self.disconnectReason = disconnectReason
        self.violationCount = violationCount
        self.violations = violations
    }
}

/// Evaluates bound queries in memory with the same semantics as the lowered SQL.
public enum Evaluator {
    public static func evaluate(_ q: BoundQuery, _ t: ThingState) -> Bool {
        switch q {
        case .all: return true
        case .and(let xs): return xs.allSatisfy { evaluate($0, t) }
        case .or(let xs): return xs.contains { evaluate($0, t) }
        case .not(let x): return !evaluate(x, t)
        case .predicate(let f, let test): return predicate(f, test, t)
        }
    }

    static func text(_ value: String?, _ test: BoundTest) -> Bool {
        guard let value else { return false }
        switch test {
        case .exists: return true
        case .textEquals(let s): return value == s
        case .textGlob(let p): return Glob.matches(p, value)
        case .textRange(let lo, let hi):
            if let lo, lo.inclusive ? !(value >= lo.value) : !(value > lo.value) { return false }
            if let hi, hi.inclusive ? !(value <= hi.value) : !(value < hi.value) { return false }
            return true
        default: return false
        }
    }

    static func number(_ value: Double?, _ test: BoundTest) -> Bool {
        guard let value else { return false }
        switch test {
        case .exists: return true
        case .numberEquals(let d): return value == d
        case .numberRange(let lo, let hi):
            if let lo, lo.inclusive ? !(value >= lo.value) : !(value > lo.value) { return false }
            if let hi, hi.inclusive ? !(value <= hi.value) : !(value < hi.value) { return false }
            return true
        default: return false
        }
    }

    static func leaf(_ v: FieldValue, _ test: BoundTest) -> Bool {
        switch test {
        case .textEquals, .textGlob, .textRange: return text(v.lower, test)
        case .numberEquals, .numberRange: return number(v.num, test)
        case .bool(let b): return v.flag == b
        case .exists: return true
        }
    }

    static func predicate(_ field: BoundField, _ test: BoundTest, _ t: ThingState) -> Bool {
        switch field {
        case .thingName: return test == .exists || text(t.name.lowercased(), test)
        case .thingId: return test == .exists || text(t.thingId, test)
        case .thingTypeName:
            guard let ty = t.typeName else { return false }
            return test == .exists || text(ty.lowercased(), test)
        case .thingGroupNames:
            if test == .exists { return !t.groupNames.isEmpty }
            return t.groupNames.contains { text($0.lowercased(), test) }
        case .leaf(let path, let isPattern):
            if test == .exists {
                let prefix = (isPattern ? path : Lexer.literalGlob(path)) + ".*"
                return t.fields.contains { v in (isPattern ? Glob.matches(path, v.field) : v.field == path) || Glob.matches(prefix, v.field) }
            }
            if isPattern { return t.fields.contains { Glob.matches(path, $0.field) && leaf($0, test) } }
            return t.fields.contains { $0.field == path && leaf($0, test) }
        case .connected:
            switch test {
            case .bool(let b): return t.connected == b
            case .exists: return true
            default: return false
            }
        case .connectivityTimestamp:
            return number(t.connectivityTimestamp.map(Double.init), test)
        case .disconnectReason:
            return !t.connected && text(t.disconnectReason?.lowercased(), test)
        case .violationCount:
            return number(t.violationCount.map(Double.init), test)
        case .violation(let profile, let behavior, let attribute):
            return t.violations.contains { v in
                if let profile, v.profile != profile { return false }
                if let behavior, v.behavior != behavior { return false }
                switch attribute {
                case .inViolation: return true
                case .metricName: return text(v.metric.lowercased(), test)
                case .lastViolationTime: return number(v.lastTime.map(Double.init), test)
                case .lastViolationCount: return number(v.lastValue, test)
                case .lastViolationNumber: return false
                }
            }
        case .anyText:
            if text(t.name.lowercased(), test) { return true }
            if let ty = t.typeName, text(ty.lowercased(), test) { return true }
            if t.groupNames.contains(where: { text($0.lowercased(), test) }) { return true }
            return t.fields.contains { text($0.lower, test) }
        }
    }
}

/// SQLite's GLOB: `*` any run, `?` one character, `[...]` a set of characters.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), s = Array(text.unicodeScalars)
        var pi = 0, si = 0
        var star = -1, mark = 0
        func single(_ pi: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
            let pc = p[pi]
            if pc == "?" { return (true, pi + 1) }
            if pc == "[" {
                var j = pi + 1
                var set: [Unicode.Scalar] = []
                if j < p.count && p[j] == "]" { set.append("]"); j += 1 }
                while j < p.count && p[j] != "]" { set.append(p[j]); j += 1 }
                guard j < p.count else { return (pc == c, pi + 1) }
                return (set.contains(c), j + 1)
            }
            return (pc == c, pi + 1)
        }
        while si < s.count {
            if pi < p.count && p[pi] == "*" {
                star = pi; pi += 1; mark = si
                continue
            }
            if pi < p.count, let (ok, next) = single(pi, s[si]), ok {
                pi = next; si += 1
                continue
            }
            if star >= 0 {
                pi = star + 1; mark += 1; si = mark
                continue
            }
            return false
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
