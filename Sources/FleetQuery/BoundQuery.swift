// FleetQuery: the bound query: every field resolved against the catalog and every value
// typed. SQLLowering and the Evaluator both read this tree, so they agree by construction.

/// Which attribute of a Device Defender violation a field names.
public enum ViolationAttribute: String, Equatable, Sendable {
    case inViolation, metricName, lastViolationTime
    case lastViolationCount = "lastViolationValue.count"
    case lastViolationNumber = "lastViolationValue.number"
}

/// A searchable field, resolved.
public enum BoundField: Equatable, Sendable {
    case thingName, thingId, thingTypeName, thingGroupNames
    /// An attribute or shadow leaf: `path` is the stored field name, or a GLOB pattern
    /// over field names when `isPattern` (a `*` segment such as `shadow.name.*.hasDelta`).
    case leaf(path: String, isPattern: Bool)
    case connected, connectivityTimestamp, disconnectReason
    case violationCount
    /// A violation attribute; nil profile or behavior is the `*` segment.
    case violation(profile: String?, behavior: String?, ViolationAttribute)
    /// A bare term: any indexed text value of the thing.
    case anyText

    var sexpr: String {
        switch self {
        case .thingName: "thingName"
        case .thingId: "thingId"
        case .thingTypeName: "thingTypeName"
        case .thingGroupNames: "thingGroupNames"
        case .leaf(let p, let pat): pat ? "(fields \(p))" : p
        case .connected: "connectivity.connected"
        case .connectivityTimestamp: "connectivity.timestamp"
        case .disconnectReason: "connectivity.disconnectReason"
        case .violationCount: "deviceDefender.violationCount"
        case .violation(let p, let b, let a): "deviceDefender.\(p ?? "*").\(b ?? "*").\(a.rawValue)"
        case .anyText: "*"
        }
    }
}

/// One end of a range.
public struct Bound<T: Equatable & Sendable>: Equatable, Sendable {
    public var value: T
    public var inclusive: Bool
    public init(_ value: T, inclusive: Bool) {
        self.value = value
        self.inclusive = inclusive
    }
}

/// A typed test on a field's values.
public enum BoundTest: Equatable, Sendable {
    case exists
    /// Lower-cased text equal to the value.
    case textEquals(String)
    /// Lower-cased text matching a GLOB pattern (already lower-cased).
    case textGlob(String)
    /// Lower-cased text between bounds (nil: open).
    case textRange(Bound<String>?, Bound<String>?)
    case numberEquals(Double)
    case numberRange(Bound<Double>?, Bound<Double>?)
    case bool(Bool)

    var sexpr: String {
        func b<T>(_ x: Bound<T>?, low: Bool) -> String {
            guard let x else { return "*" }
            return low ? (x.inclusive ? "[" : "{") + "\(x.value)" : "\(x.value)" + (x.inclusive ? "]" : "}")
        }
        switch self {
        case .exists: return "exists"
        case .textEquals(let s): return "\"\(s)\""
        case .textGlob(let p): return "(glob \"\(p)\")"
        case .textRange(let lo, let hi): return "(text-range \(b(lo, low: true)) \(b(hi, low: false)))"
        case .numberEquals(let d): return "(= \(formatNumber(d)))"
        case .numberRange(let lo, let hi):
            return "(num-range \(lo.map { ($0.inclusive ? "[" : "{") + formatNumber($0.value) } ?? "*") \(hi.map { formatNumber($0.value) + ($0.inclusive ? "]" : "}") } ?? "*"))"
        case .bool(let v): return v ? "true" : "false"
        }
    }
}

public func formatNumber(_ d: Double) -> String {
    if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
    return String(d)
}

/// A query ready to lower to SQL or to evaluate in memory.
public indirect enum BoundQuery: Equatable, Sendable {
    /// Every thing (`*`).
    case all
    case and([BoundQuery])
    case or([BoundQuery])
    case not(BoundQuery)
    case predicate(BoundField, BoundTest)

    /// Canonical s-expression, e.g. `(and (attributes.site (glob "denver*")) ...)`.
    public var sexpr: String {
        switch self {
        case .all: "all"
        case .and(let xs): "(and " + xs.map(\.sexpr).joined(separator: " ") + ")"
        case .or(let xs): "(or " + xs.map(\.sexpr).joined(separator: " ") + ")"
        case .not(let x): "(not " + x.sexpr + ")"
        case .predicate(let f, let t): "(\(f.sexpr) \(t.sexpr))"
        }
    }
}
