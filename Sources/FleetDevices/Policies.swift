// FleetDevices: AWS IoT policies, their versions and their attachments to certificates.
// Each public method is one AWS operation, shaped as the botocore `iot` model.
import FleetIndex
import FleetSQLite

/// The policy operations.
public struct Policies {
    public let db: FleetDatabase
    var store: PolicyStore { PolicyStore(c: db.connection) }

    public init(_ db: FleetDatabase) { self.db = db }

    /// A policy has at most five versions; a target at most ten policies (AWS's limits).
    public static let maxVersions = 5
    public static let maxPoliciesPerTarget = 10

    public func policyARN(_ name: String) -> String { db.iotARN("policy/\(name)") }

    /// `[\w+=,.@-]+`, 1...128.
    static func checkName(_ name: String) throws(FleetError) {
        guard !name.isEmpty, name.utf8.count <= 128,
              name.utf8.allSatisfy({ Validation.isAlnumPublic($0) || "_+=,.@-".utf8.contains($0) }) else {
            throw .invalid(member: "policyName", "'\(name)' must be 1 to 128 characters of [\\w+=,.@-]")
        }
    }

    static func checkVersionId(_ v: String) throws(FleetError) -> Int64 {
        guard !v.isEmpty, v.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int64(v) else {
            throw .invalid(member: "policyVersionId", "must be a number, got '\(v)'")
        }
        return n
    }

    typealias Row = PolicyRecord

    func find(_ name: String) throws -> Row? {
        try store.policy(named: name)
    }

    func require(_ name: String) throws -> Row {
        try Self.checkName(name)
        guard let r = try find(name) else { throw FleetError.notFound("The policy \(name) does not exist.") }
        return r
    }

    static func generation() -> String { FleetDatabase.hex32() + FleetDatabase.hex32() }

    // MARK: policies

    /// CreatePolicy: version 1, the default.
    public func createPolicy(name: String, document: String, at now: Int64) throws -> JSONValue {
        try Self.checkName(name)
        _ = try PolicyDocument.parse(document)
        return try db.transaction {
            if try find(name) != nil {
                throw FleetError.alreadyExists("Policy cannot be created - name already exists (name=\(name))")
            }
            try store.insertPolicy(name: name, document: document, generation: Self.generation(), at: now)
            return jsonObject([("policyName", .string(name)), ("policyArn", .string(policyARN(name))),
                               ("policyDocument", .string(document)), ("policyVersionId", .string("1"))])
        }
    }

    func document(_ policy: Int64, _ version: Int64) throws -> (text: String, created: Int64)? {
        try store.document(policy: policy, version: version)
    }

    /// GetPolicy: the default version's document.
    public func getPolicy(name: String) throws -> JSONValue {
        let p = try require(name)
        let d = try document(p.id, p.defaultVersion)
        return jsonObject([
            ("policyName", .string(p.name)), ("policyArn", .string(policyARN(p.name))),
            ("policyDocument", .string(d?.text ?? "")), ("defaultVersionId", .string(String(p.defaultVersion))),
            ("creationDate", .string(Timestamp.iso(p.created))), ("lastModifiedDate", .string(Timestamp.iso(p.modified))),
            ("generationId", .string(p.generation)),
        ])
    }

    /// ListPolicies, by name: descending unless `ascendingOrder`.
    public func listPolicies(pageSize: Int?, marker: String?, ascendingOrder: Bool) throws -> JSONValue {
        let limit = try Marker.pageSize(pageSize)
        let scope = "list-policies|\(ascendingOrder)"
        let names = try store.policyNames(after: try Marker.position(marker, scope: scope), ascending: ascendingOrder, limit: limit + 1)
        let page = names.prefix(limit)
        return jsonObject([
            ("policies", .array(page.map { jsonObject([("policyName", .string($0)), ("policyArn", .string(policyARN($0)))]) })),
            ("nextMarker", names.count > limit ? .string(Marker.encode(page.last!, scope: scope)) : nil),
        ])
    }

    /// DeletePolicy: refused while attached or while it has versions besides the default.
    public func deletePolicy(name: String) throws -> JSONValue {
        try db.transaction {
            let p = try require(name)
            if try store.isAttachedAnywhere(policy: p.id) {
                throw FleetError.deleteConflict("The policy cannot be deleted as the policy is attached to one or more principals (name=\(name))")
            }
            if try store.hasVersions(policy: p.id, besides: p.defaultVersion) {
                throw FleetError.deleteConflict("Cannot delete the policy because it has one or more policy versions attached to it (name=\(name))")
            }
            try store.deletePolicy(p.id)
            return .object([])
        }
    }

    // MARK: versions

    /// CreatePolicyVersion: at most five versions; `setAsDefault` makes it the operative one.
    public func createPolicyVersion(name: String, document: String, setAsDefault: Bool, at now: Int64) throws -> JSONValue {
        try Self.checkName(name)
        _ = try PolicyDocument.parse(document)
        return try db.transaction {
            let p = try require(name)
            let count = try store.versionCount(policy: p.id)
            guard count < Int64(Self.maxVersions) else {
                throw FleetError(.versionsLimitExceeded, "The policy \(name) already has the maximum number of versions (\(Self.maxVersions))")
            }
            let v = p.nextVersion
            try store.insertVersion(policy: p.id, version: v, document: document, defaultVersion: setAsDefault ? v : p.defaultVersion,
                                    generation: Self.generation(), at: now)
            return jsonObject([("policyArn", .string(policyARN(name))), ("policyDocument", .string(document)),
                               ("policyVersionId", .string(String(v))), ("isDefaultVersion", .bool(setAsDefault))])
        }
    }

    /// ListPolicyVersions, newest first.
    public func listPolicyVersions(name: String) throws -> JSONValue {
        let p = try require(name)
        let rows = try store.versions(policy: p.id)
        return jsonObject([("policyVersions", .array(rows.map { r in
            jsonObject([("versionId", .string(String(r.0))), ("isDefaultVersion", .bool(r.0 == p.defaultVersion)),
                        ("createDate", .string(Timestamp.iso(r.1)))])
        }))])
    }

    func requireVersion(_ p: Row, _ versionId: String) throws -> (version: Int64, text: String, created: Int64) {
        let v = try Self.checkVersionId(versionId)
        guard let d = try document(p.id, v) else {
            throw FleetError.notFound("The policy \(p.name) has no version \(versionId).")
        }
        return (v, d.text, d.created)
    }

    /// GetPolicyVersion.
    public func getPolicyVersion(name: String, versionId: String) throws -> JSONValue {
        let p = try require(name)
        let d = try requireVersion(p, versionId)
        return jsonObject([
            ("policyArn", .string(policyARN(p.name))), ("policyName", .string(p.name)), ("policyDocument", .string(d.text)),
            ("policyVersionId", .string(String(d.version))), ("isDefaultVersion", .bool(d.version == p.defaultVersion)),
            ("creationDate", .string(Timestamp.iso(d.created))), ("lastModifiedDate", .string(Timestamp.iso(p.modified))),
            ("generationId", .string(p.generation)),
        ])
    }

    /// SetDefaultPolicyVersion.
    public func setDefaultPolicyVersion(name: String, versionId: String, at now: Int64) throws -> JSONValue {
        try db.transaction {
            let p = try require(name)
            let d = try requireVersion(p, versionId)
            if d.version != p.defaultVersion {
                try store.setDefaultVersion(policy: p.id, d.version, generation: Self.generation(), at: now)
            }
            return .object([])
        }
    }

    /// DeletePolicyVersion: never the default version (DeletePolicy deletes that).
    public func deletePolicyVersion(name: String, versionId: String) throws -> JSONValue {
        try db.transaction {
            let p = try require(name)
            let d = try requireVersion(p, versionId)
            if d.version == p.defaultVersion {
                throw FleetError.deleteConflict("Cannot delete the default version of a policy (name=\(name), version=\(versionId)); use DeletePolicy.")
            }
            try store.deleteVersion(policy: p.id, d.version)
            return .object([])
        }
    }

    // MARK: attachments

    /// A target: the ARN of a certificate of this database.
    func checkTarget(_ target: String) throws {
        let certs = Certificates(db)
        guard let id = certs.certificateId(fromARN: target), target == certs.certificateARN(id) else {
            throw FleetError.invalid(member: "target", "must be a certificate ARN (\(db.iotARN("cert/<certificateId>"))), got '\(target)'")
        }
        guard try certs.find(id) != nil else { throw FleetError.notFound("The certificate \(id) does not exist.") }
    }

    /// AttachPolicy (attaching twice is no error; ten policies a target at most).
    public func attachPolicy(name: String, target: String, at now: Int64) throws -> JSONValue {
        try db.transaction {
            let p = try require(name)
            try checkTarget(target)
            if try store.isAttached(policy: p.id, target: target) { return .object([]) }
            let n = try store.policyCount(target: target)
            guard n < Int64(Self.maxPoliciesPerTarget) else {
                throw FleetError.limitExceeded("The target \(target) has the maximum number of policies attached (\(Self.maxPoliciesPerTarget)).")
            }
            try store.attach(policy: p.id, target: target, at: now)
            return .object([])
        }
    }

    /// DetachPolicy (the model gives it no ResourceNotFoundException: detaching what is not
    /// attached succeeds).
    public func detachPolicy(name: String, target: String) throws -> JSONValue {
        try Self.checkName(name)
        guard !target.isEmpty else { throw FleetError.invalid(member: "target", "must not be empty") }
        try store.detach(policyNamed: name, target: target)
        return .object([])
    }

    /// ListAttachedPolicies: the policies attached to a certificate, by name.
    public func listAttachedPolicies(target: String, recursive: Bool, pageSize: Int?, marker: String?) throws -> JSONValue {
        let limit = try Marker.pageSize(pageSize)
        try checkTarget(target)
        let scope = "list-attached-policies|\(target)"
        let after = try Marker.position(marker, scope: scope) ?? ""
        let names = try store.attachedPolicyNames(target: target, after: after, limit: limit + 1)
        let page = names.prefix(limit)
        return jsonObject([
            ("policies", .array(page.map { jsonObject([("policyName", .string($0)), ("policyArn", .string(policyARN($0)))]) })),
            ("nextMarker", names.count > limit ? .string(Marker.encode(page.last!, scope: scope)) : nil),
        ])
    }

    /// ListTargetsForPolicy.
    public func listTargetsForPolicy(name: String, pageSize: Int?, marker: String?) throws -> JSONValue {
        let limit = try Marker.pageSize(pageSize)
        let p = try require(name)
        let scope = "list-targets-for-policy|\(name)"
        let after = try Marker.position(marker, scope: scope) ?? ""
        let targets = try store.targets(policy: p.id, after: after, limit: limit + 1)
        let page = targets.prefix(limit)
        return jsonObject([
            ("targets", .array(page.map(JSONValue.string))),
            ("nextMarker", targets.count > limit ? .string(Marker.encode(page.last!, scope: scope)) : nil),
        ])
    }

    // MARK: evaluation

    /// The default versions of the policies attached to `principal` (a certificate ARN).
    public func effectivePolicies(principal: String,
                                  parse: (String) -> PolicyDocument? = { try? PolicyDocument.parse($0) }) throws -> [PolicyDocument] {
        try store.effectiveDocuments(target: principal).compactMap { parse($0.document) }
    }

    /// The policy context of an MQTT connection by `clientId` with certificate `principal`:
    /// the thing is the one attached exclusively, else the attached thing named `clientId`
    /// (AWS's rule); IsAttached says whether a thing named `clientId` is attached; the
    /// `iot:Certificate.*` variables come from the certificate (when `certificateVariables`:
    /// a caller whose policies name none of them leaves them out).
    public func connectionContext(principal: String, clientId: String, sourceIp: String? = nil,
                                  certificateVariables: Bool = true) throws -> PolicyContext {
        let things = try store.things(ofPrincipal: principal)
        let thing = things.first { $0.type == "EXCLUSIVE_THING" } ?? things.first { $0.name == clientId }
        let attrs = thing?.attributes ?? [:]
        let certs = Certificates(db)
        let certificate = certificateVariables
            ? try certs.certificateId(fromARN: principal).map { try certs.policyVariables(certificateId: $0) } ?? [:] : [:]
        return PolicyContext(clientId: clientId, thingName: thing?.name, thingTypeName: thing?.typeName,
                             isAttached: things.contains { $0.name == clientId }, thingAttributes: attrs,
                             certificate: certificate, sourceIp: sourceIp)
    }

    /// TestAuthorization: each authInfo decided against the principal's policies (plus
    /// `policyNamesToAdd`, less `policyNamesToSkip`) in the context of a connection by
    /// `clientId`. An authInfo with several resources is allowed when every one is; a
    /// policy is listed as allowing (explicitly denying) when it does so for any of them.
    public func testAuthorization(principal: String?, clientId: String?, authInfos: JSONValue,
                                  policyNamesToAdd: [String], policyNamesToSkip: [String]) throws -> JSONValue {
        guard let infos = authInfos.arrayValue, (1...10).contains(infos.count) else {
            throw FleetError.invalid(member: "authInfos", "must be a list of 1 to 10 authorization infos")
        }
        let actions = ["PUBLISH": "iot:Publish", "SUBSCRIBE": "iot:Subscribe", "RECEIVE": "iot:Receive", "CONNECT": "iot:Connect"]
        var parsed: [(type: String, resources: [String])] = []
        for info in infos {
            guard case .object = info, let type = info["actionType"]?.stringValue, actions[type] != nil else {
                throw FleetError.invalid(member: "authInfos", "entries need an actionType of PUBLISH, SUBSCRIBE, RECEIVE or CONNECT")
            }
            guard let rs = info["resources"]?.arrayValue, !rs.isEmpty, rs.allSatisfy({ $0.stringValue != nil }) else {
                throw FleetError.invalid(member: "authInfos", "entries need a non-empty list of resources (ARNs)")
            }
            parsed.append((type, rs.compactMap(\.stringValue)))
        }
        var named: [(name: String, doc: PolicyDocument)] = []
        var context = PolicyContext(clientId: clientId)
        if let principal {
            try Certificates(db).checkPrincipal(principal)
            named = try store.effectiveDocuments(target: principal).compactMap { r in (try? PolicyDocument.parse(r.document)).map { (r.name, $0) } }
            if let clientId { context = try connectionContext(principal: principal, clientId: clientId) }
        }
        for name in policyNamesToAdd where !named.contains(where: { $0.name == name }) {
            let p = try require(name)
            guard let d = try document(p.id, p.defaultVersion) else { continue }
            named.append((name, try PolicyDocument.parse(d.text)))
        }
        named.removeAll { policyNamesToSkip.contains($0.name) }
        func refs(_ names: [String]) -> JSONValue {
            jsonObject([("policies", .array(names.map { jsonObject([("policyName", .string($0)), ("policyArn", .string(policyARN($0)))]) }))])
        }
        var results: [JSONValue] = []
        for info in parsed {
            let action = actions[info.type]!
            var allowing: [String] = [], denying: [String] = [], silent: [String] = []
            var decision = PolicyDecision.allowed
            for r in info.resources {
                let d = PolicyEvaluator.evaluate(named.map(\.doc), action: action, resource: r, context: context)
                if d == .explicitDeny || (d == .implicitDeny && decision == .allowed) { decision = d }
            }
            for p in named {
                let ds = info.resources.map { PolicyEvaluator.evaluate([p.doc], action: action, resource: $0, context: context) }
                if ds.contains(.explicitDeny) { denying.append(p.name) }
                else if ds.contains(.allowed) { allowing.append(p.name) }
                else { silent.append(p.name) }
            }
            let missing = PolicyEvaluator.unresolved(named.map(\.doc), action: action, context: context)
            results.append(jsonObject([
                ("authInfo", jsonObject([("actionType", .string(info.type)), ("resources", .array(info.resources.map(JSONValue.string)))])),
                ("allowed", refs(allowing)),
                ("denied", jsonObject([("implicitDeny", refs(silent)), ("explicitDeny", refs(denying))])),
                ("authDecision", .string(decision == .allowed ? "ALLOWED" : decision == .explicitDeny ? "EXPLICIT_DENY" : "IMPLICIT_DENY")),
                ("missingContextValues", .array(missing.map(JSONValue.string))),
            ]))
        }
        return jsonObject([("authResults", .array(results))])
    }

    /// Whether the certificate `principal`, connected as `clientId`, may do `action` on `resource`.
    public func authorize(principal: String, clientId: String, action: String, resource: String) throws -> PolicyDecision {
        PolicyEvaluator.evaluate(try effectivePolicies(principal: principal), action: action, resource: resource,
                                 context: try connectionContext(principal: principal, clientId: clientId))
    }
}
