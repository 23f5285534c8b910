// FleetDevices: an AWS IoT policy document, validated as AWS validates it (else
// MalformedPolicyException) and parsed into statements for PolicyEvaluator.
import FleetIndex

/// One policy document.
public struct PolicyDocument: Sendable, Equatable {
    public var statements: [PolicyStatement]

    public init(statements: [PolicyStatement]) { self.statements = statements }

    /// Whether a statement names an `iot:Certificate.*` policy variable or condition key, in
    /// any case (PolicyContext resolves keys case-insensitively).
    public var referencesCertificate: Bool {
        statements.contains { s in
            (s.actions + s.resources + s.conditions.flatMap { [$0.key] + $0.values }).contains { $0.lowercased().contains("iot:certificate.") }
        }
    }

    /// The limit on a document's length, whitespace not counted (the CreatePolicy docs).
    public static let maxLength = 2048

    /// Parses and validates `text`: JSON; `Version` 2012-10-17; `Statement` an object or a
    /// non-empty list of them, each with `Effect` Allow or Deny, `Action` or `NotAction` and
    /// `Resource` or `NotResource` (a string or a non-empty list of strings), an optional
    /// `Sid` and `Condition`; nothing else (no `Principal`: IoT policies have none).
    public static func parse(_ text: String) throws(FleetError) -> PolicyDocument {
        let length = text.unicodeScalars.reduce(0) { $0 + ($1.properties.isWhitespace ? 0 : 1) }
        guard length >= 1 else { throw .malformedPolicy("The policy document is empty.") }
        guard length <= maxLength else {
            throw .malformedPolicy("The policy document is \(length) characters long (whitespace not counted); the limit is \(maxLength).")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch { throw .malformedPolicy("The policy document is not valid JSON: \(error)") }
        guard case .object(let top) = json else { throw .malformedPolicy("The policy document must be a JSON object.") }
        for m in top where !["Version", "Id", "Statement"].contains(m.key) {
            throw .malformedPolicy("The policy document has an unknown element '\(m.key)'.")
        }
        guard let version = json["Version"] else { throw .malformedPolicy("The policy document has no Version; use \"2012-10-17\".") }
        guard version.stringValue == "2012-10-17" else {
            throw .malformedPolicy("The policy Version must be \"2012-10-17\", not \(version.compact).")
        }
        if let id = json["Id"], id.stringValue == nil { throw .malformedPolicy("Id must be a string.") }
        guard let st = json["Statement"] else { throw .malformedPolicy("The policy document has no Statement.") }
        let list: [JSONValue]
        switch st {
        case .object: list = [st]
        case .array(let xs) where !xs.isEmpty: list = xs
        default: throw .malformedPolicy("Statement must be an object or a non-empty list of objects.")
        }
        var statements: [PolicyStatement] = []
        for (i, s) in list.enumerated() { statements.append(try PolicyStatement.parse(s, index: i)) }
        return PolicyDocument(statements: statements)
    }
}

/// One statement.
public struct PolicyStatement: Sendable, Equatable {
    public enum Effect: String, Sendable { case allow = "Allow", deny = "Deny" }

    public var sid: String?
    public var effect: Effect
    /// `Action`, or with `notAction` the actions of `NotAction`.
    public var actions: [String]
    public var notAction: Bool
    public var resources: [String]
    public var notResource: Bool
    public var conditions: [PolicyCondition]

    public init(sid: String? = nil, effect: Effect, actions: [String], notAction: Bool = false,
                resources: [String], notResource: Bool = false, conditions: [PolicyCondition] = []) {
        self.sid = sid
        self.effect = effect
        self.actions = actions
        self.notAction = notAction
        self.resources = resources
        self.notResource = notResource
        self.conditions = conditions
    }

    static let elements: Set<String> = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]

    static func parse(_ v: JSONValue, index: Int) throws(FleetError) -> PolicyStatement {
        let at = "Statement[\(index)]"
        guard case .object(let ms) = v else { throw .malformedPolicy("\(at) must be an object.") }
        for m in ms where !elements.contains(m.key) {
            throw .malformedPolicy("\(at) has an unsupported element '\(m.key)'.")
        }
        var sid: String?
        if let s = v["Sid"] {
            guard let text = s.stringValue else { throw .malformedPolicy("\(at).Sid must be a string.") }
            sid = text
        }
        guard let e = v["Effect"]?.stringValue, let effect = Effect(rawValue: e) else {
            throw .malformedPolicy("\(at).Effect must be \"Allow\" or \"Deny\".")
        }
        let (actions, notAction) = try oneOf("Action", "NotAction", v, at)
        for a in actions where !validAction(a) {
            throw .malformedPolicy("\(at): '\(a)' is not an action (service:Name, with * and ? as wildcards).")
        }
        let (resources, notResource) = try oneOf("Resource", "NotResource", v, at)
        var conditions: [PolicyCondition] = []
        if let cond = v["Condition"] {
            guard case .object(let ops) = cond else { throw .malformedPolicy("\(at).Condition must be an object.") }
            for op in ops {
                guard let parsed = PolicyCondition.Operator(op.key) else {
                    throw .malformedPolicy("\(at).Condition: '\(op.key)' is not a supported condition operator.")
                }
                guard case .object(let keys) = op.value, !keys.isEmpty else {
                    throw .malformedPolicy("\(at).Condition.\(op.key) must be an object of condition keys.")
                }
                for k in keys {
                    var values: [String] = []
                    for x in (k.value.arrayValue ?? [k.value]) {
                        switch x {
                        case .string(let s): values.append(s)
                        case .bool(let b): values.append(b ? "true" : "false")
                        case .number(let n): values.append(n)
                        default: throw .malformedPolicy("\(at).Condition.\(op.key).\(k.key) must be a string or a list of strings.")
                        }
                    }
                    guard !values.isEmpty else { throw .malformedPolicy("\(at).Condition.\(op.key).\(k.key) has no values.") }
                    conditions.append(PolicyCondition(op: parsed, key: k.key, values: values))
                }
            }
        }
        return PolicyStatement(sid: sid, effect: effect, actions: actions, notAction: notAction,
                               resources: resources, notResource: notResource, conditions: conditions)
    }

    static func oneOf(_ a: String, _ b: String, _ v: JSONValue, _ at: String) throws(FleetError) -> ([String], Bool) {
        switch (v[a], v[b]) {
        case (.some(let x), nil): return (try strings(x, "\(at).\(a)"), false)
        case (nil, .some(let x)): return (try strings(x, "\(at).\(b)"), true)
        case (.some, .some): throw .malformedPolicy("\(at) cannot have both \(a) and \(b).")
        case (nil, nil): throw .malformedPolicy("\(at) needs \(a) or \(b).")
        }
    }

    static func strings(_ v: JSONValue, _ what: String) throws(FleetError) -> [String] {
        if let s = v.stringValue { return [s] }
        guard let xs = v.arrayValue, !xs.isEmpty else { throw .malformedPolicy("\(what) must be a string or a non-empty list of strings.") }
        var out: [String] = []
        for x in xs {
            guard let s = x.stringValue else { throw .malformedPolicy("\(what) must hold strings only.") }
            out.append(s)
        }
        return out
    }

    /// `*`, or `service:Name` where the service is letters, digits and dashes and the name
    /// letters, digits, `*` and `?`.
    static func validAction(_ a: String) -> Bool {
        if a == "*" { return true }
        let parts = a.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return parts[0].utf8.allSatisfy { Validation.isAlnumPublic($0) || $0 == UInt8(ascii: "-") }
            && parts[1].utf8.allSatisfy { Validation.isAlnumPublic($0) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }
    }
}

/// One condition: an operator on one context key, true when any of `values` matches.
public struct PolicyCondition: Sendable, Equatable {
    public struct Operator: Sendable, Equatable {
        public enum Base: String, Sendable, CaseIterable {
            case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
            case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
            case stringLike = "StringLike", stringNotLike = "StringNotLike"
            case bool = "Bool", null = "Null"
        }
        public var base: Base
        /// `…IfExists`: true when the key is absent.
        public var ifExists: Bool

        public init(base: Base, ifExists: Bool = false) {
            self.base = base
            self.ifExists = ifExists
        }

        /// The operator named `name` (case as AWS writes them), nil for one fleetdex lacks.
        public init?(_ name: String) {
            var n = Substring(name)
            let ifExists = n.hasSuffix("IfExists") && name != "Null"
            if ifExists { n = n.dropLast("IfExists".count) }
            guard let b = Base(rawValue: String(n)), !(ifExists && b == .null) else { return nil }
            self.init(base: b, ifExists: ifExists)
        }

        var negated: Bool { base == .stringNotEquals || base == .stringNotEqualsIgnoreCase || base == .stringNotLike }
    }

    public var op: Operator
    public var key: String
    public var values: [String]

    public init(op: Operator, key: String, values: [String]) {
        self.op = op
        self.key = key
        self.values = values
    }
}

extension Validation {
    static func isAlnumPublic(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }
}
