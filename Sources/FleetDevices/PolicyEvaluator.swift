// FleetDevices: AWS IoT policy evaluation, a pure function. Given the policies attached to
// a principal, an action (`iot:Connect`, `iot:Publish`, ...), a resource ARN (`…:client/id`,
// `…:topic/a/b`, `…:topicfilter/a/#`) and the connection's context, is the request allowed?
//
// The rules (AWS's IoT and IAM policy documentation):
// - default deny; an Allow statement that applies allows; a Deny that applies wins over any Allow;
// - a statement applies when its Action (or NotAction) and Resource (or NotResource) match and
//   every condition holds;
// - `*` matches any run of characters and `?` one character, in actions (case-insensitively)
//   and resources (case-sensitively); MQTT's `+` and `#` are literal characters;
// - policy variables `${iot:ClientId}`, `${iot:Connection.Thing.ThingName}`,
//   `${iot:Connection.Thing.ThingTypeName}`, `${iot:Connection.Thing.IsAttached}`,
//   `${iot:Connection.Thing.Attributes[name]}`, `${iot:Certificate.*}` and `${aws:SourceIp}`
//   are substituted in resources and condition values, their values taken literally (a
//   client id `*` is no wildcard); `${*}`, `${?}` and `${$}` are the literal characters. A
//   variable that cannot be resolved makes its statement not apply (Allow or Deny alike);
// - conditions: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
//   StringNotEqualsIgnoreCase, StringLike, StringNotLike, Bool, each also …IfExists, and Null;
//   several values of one key: any; several keys and operators: all. A key the context lacks
//   fails a condition, except under a negated operator or …IfExists (IAM's rule).

/// What the connection tells the policies.
public struct PolicyContext: Sendable, Equatable {
    public var clientId: String?
    /// The thing the principal is attached to for this connection (nil: none is).
    public var thingName: String?
    public var thingTypeName: String?
    /// Whether a thing named by the client id is attached to the principal (nil: not known).
    public var isAttached: Bool?
    public var thingAttributes: [String: String]
    /// Certificate fields by their policy-variable name after `iot:Certificate.`:
    /// `Subject.CommonName`, `Issuer.Organization`, `SerialNumber`, ...
    public var certificate: [String: String]
    public var sourceIp: String?

    public init(clientId: String? = nil, thingName: String? = nil, thingTypeName: String? = nil, isAttached: Bool? = nil,
                thingAttributes: [String: String] = [:], certificate: [String: String] = [:], sourceIp: String? = nil) {
        self.clientId = clientId
        self.thingName = thingName
        self.thingTypeName = thingTypeName
        self.isAttached = isAttached
        self.thingAttributes = thingAttributes
        self.certificate = certificate
        self.sourceIp = sourceIp
    }

    /// The value of a context key or policy variable (`iot:ClientId`); nil when unresolved.
    public func value(_ key: String) -> String? {
        let lower = key.lowercased()
        switch lower {
        case "iot:clientid": return clientId
        case "iot:connection.thing.thingname": return thingName
        case "iot:connection.thing.thingtypename": return thingTypeName
        case "iot:connection.thing.isattached": return isAttached.map { $0 ? "true" : "false" }
        case "aws:sourceip": return sourceIp
        default: break
        }
        let attrs = "iot:connection.thing.attributes["
        if lower.hasPrefix(attrs), key.hasSuffix("]") {
            return thingAttributes[String(key.dropFirst(attrs.count).dropLast())]
        }
        let cert = "iot:certificate."
        if lower.hasPrefix(cert) {
            let field = String(lower.dropFirst(cert.count))
            return certificate.first { $0.key.lowercased() == field }?.value
        }
        return nil
    }
}

/// How a request was decided.
public enum PolicyDecision: String, Sendable {
    case allowed, explicitDeny, implicitDeny
    public var isAllowed: Bool { self == .allowed }
}

public enum PolicyEvaluator {
    /// The decision on `action` on `resource` under `policies` (the default versions of the
    /// policies attached to the principal).
    public static func evaluate(_ policies: [PolicyDocument], action: String, resource: String, context: PolicyContext) -> PolicyDecision {
        var allowed = false
        for p in policies {
            for s in p.statements where applies(s, action: action, resource: resource, context: context) {
                if s.effect == .deny { return .explicitDeny }
                allowed = true
            }
        }
        return allowed ? .allowed : .implicitDeny
    }

    public static func isAllowed(_ policies: [PolicyDocument], action: String, resource: String, context: PolicyContext) -> Bool {
        evaluate(policies, action: action, resource: resource, context: context).isAllowed
    }

    /// The policy variables and context keys of the statements for `action` that `context`
    /// cannot resolve (TestAuthorization's missingContextValues), by name, sorted.
    public static func unresolved(_ policies: [PolicyDocument], action: String, context: PolicyContext) -> [String] {
        let act = Array(action.lowercased().unicodeScalars)
        var names = Set<String>()
        func scan(_ text: String) {
            var rest = Substring(text)
            while let open = rest.range(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
                let name = String(rest[open.upperBound..<close])
                if !["*", "?", "$"].contains(name), context.value(name) == nil { names.insert(name) }
                rest = rest[rest.index(after: close)...]
            }
        }
        for p in policies {
            for s in p.statements {
                let hit = s.actions.contains { a in pattern(a.lowercased(), nil).map { match($0, act) } ?? false }
                guard hit != s.notAction else { continue }
                s.resources.forEach(scan)
                for c in s.conditions { c.values.forEach(scan) }
            }
        }
        return names.sorted()
    }

    /// Whether one statement applies to the request.
    public static func applies(_ s: PolicyStatement, action: String, resource: String, context: PolicyContext) -> Bool {
        let act = Array(action.lowercased().unicodeScalars)
        let actionHit = s.actions.contains { a in
            guard let p = pattern(a.lowercased(), nil) else { return false }
            return match(p, act)
        }
        guard actionHit != s.notAction else { return false }
        let res = Array(resource.unicodeScalars)
        var resourceHit = false
        for r in s.resources {
            guard let p = pattern(r, context) else { return false }  // an unresolved variable
            if match(p, res) { resourceHit = true }
        }
        guard resourceHit != s.notResource else { return false }
        for c in s.conditions {
            guard let holds = holds(c, context) else { return false }
            if !holds { return false }
        }
        return true
    }

    /// nil: a variable in a value could not be resolved.
    static func holds(_ c: PolicyCondition, _ context: PolicyContext) -> Bool? {
        let value = context.value(c.key)
        if c.op.base == .null {
            let wantsAbsent = c.values.contains { $0.lowercased() == "true" }
            return wantsAbsent == (value == nil)
        }
        guard let value else { return c.op.ifExists || c.op.negated }
        var any = false
        for raw in c.values {
            guard let p = pattern(raw, context) else { return nil }
            let hit: Bool
            switch c.op.base {
            case .stringEquals, .stringNotEquals: hit = literal(p) == value
            case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase: hit = literal(p).lowercased() == value.lowercased()
            case .stringLike, .stringNotLike: hit = match(p, Array(value.unicodeScalars))
            case .bool: hit = literal(p).lowercased() == value.lowercased()
            case .null: hit = false
            }
            if hit { any = true; break }
        }
        return c.op.negated ? !any : any
    }

    // MARK: patterns

    enum Token: Equatable {
        case char(Unicode.Scalar)
        case star
        case one
    }

    /// `text` as wildcard tokens, its variables substituted (literally) from `context`; nil
    /// when a variable cannot be resolved. With no context (actions), `${…}` is literal.
    static func pattern(_ text: String, _ context: PolicyContext?) -> [Token]? {
        let u = Array(text.unicodeScalars)
        var out: [Token] = []
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            let ch = u[i]
            if ch == "$", let context, i + 1 < u.count, u[i + 1] == "{", let close = u[(i + 2)...].firstIndex(of: "}") {
                let name = String(String.UnicodeScalarView(u[(i + 2)..<close]))
                switch name {
                case "*", "?", "$": out.append(.char(name.unicodeScalars.first!))
                default:
                    guard let v = context.value(name) else { return nil }
                    out += v.unicodeScalars.map(Token.char)
                }
                i = close + 1
                continue
            }
            out.append(ch == "*" ? .star : ch == "?" ? .one : .char(ch))
            i += 1
        }
        return out
    }

    /// The tokens as plain text (`*` and `?` as themselves): the operand of StringEquals.
    static func literal(_ p: [Token]) -> String {
        var s = String.UnicodeScalarView()
        for t in p {
            switch t {
            case .char(let c): s.append(c)
            case .star: s.append("*")
            case .one: s.append("?")
            }
        }
        return String(s)
    }

    /// Wildcard matching (linear backtracking on the last `*`).
    static func match(_ p: [Token], _ s: [Unicode.Scalar]) -> Bool {
        var pi = 0, si = 0
        var star = -1, mark = 0
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case .star:
                    star = pi; mark = si; pi += 1
                    continue
                case .one:
                    pi += 1; si += 1
                    continue
                case .char(let c) where c == s[si]:
                    pi += 1; si += 1
                    continue
                default: break
                }
            }
            guard star >= 0 else { return false }
            pi = star + 1
            mark += 1
            si = mark
        }
        while pi < p.count, p[pi] == .star { pi += 1 }
        return pi == p.count
    }
}
