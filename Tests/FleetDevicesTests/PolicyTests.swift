// Policies: validation as AWS validates (MalformedPolicyException), versions (five at most,
// the default one operative), deletion refusals, attachments to certificates.
import FleetDevices
import FleetIndex
import Foundation
import Testing

@Suite struct PolicyTests {
    let t0 = DeviceFixtures.t0
    static let allowAll = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#

    static func doc(_ statement: String) -> String { #"{"Version":"2012-10-17","Statement":"# + statement + "}" }

    @Test(arguments: [
        (allowAll, nil),
        (doc(#"{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/a"]}"#), nil),
        (doc(#"{"Sid":"x","Effect":"Deny","NotAction":"iot:Connect","NotResource":"*"}"#), nil),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}"#), nil),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEqualsIfExists":{"iot:ClientId":["a","b"]}}}"#), nil),
        ("   " + allowAll + "\n", nil),
        ("not json", "MalformedPolicyException"),
        ("", "MalformedPolicyException"),
        ("[]", "MalformedPolicyException"),
        (#"{"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}"#, "MalformedPolicyException"),
        (#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}"#, "MalformedPolicyException"),
        (#"{"Version":"2012-10-17"}"#, "MalformedPolicyException"),
        (#"{"Version":"2012-10-17","Statement":[]}"#, "MalformedPolicyException"),
        (#"{"Version":"2012-10-17","Statement":"Allow"}"#, "MalformedPolicyException"),
        (#"{"Version":"2012-10-17","Statement":{},"Extra":1}"#, "MalformedPolicyException"),
        (doc(#"{"Effect":"allow","Action":"iot:*","Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Action":"iot:*","Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","NotAction":"iot:Connect","Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":[1],"Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"Connect","Resource":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Principal":"*"}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"NumericEquals":{"x":"1"}}}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"Bool":"true"}}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"Bool":{"k":[]}}}"#), "MalformedPolicyException"),
        (doc(#"{"Effect":"Allow","Action":"iot:*","Resource":[""# + String(repeating: "x", count: 2000) + #""]}"#), "MalformedPolicyException"),
    ] as [(String, String?)])
    func validation(document: String, error: String?) throws {
        let p = Policies(try DeviceFixtures.database())
        #expect(DeviceFixtures.exception { try p.createPolicy(name: "P", document: document, at: t0) } == error)
    }

    /// Whether a document names an iot:Certificate.* variable (the MQTT endpoint reads the
    /// certificate's fields only then): in a resource, a condition key or a condition value.
    @Test(arguments: [
        (allowAll, false),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"}"#), false),
        (doc(#"{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:Certificate.Subject.CommonName}/*"}"#), true),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:Certificate.Issuer.Organization":"x"}}}"#), true),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":"${iot:Certificate.SerialNumber}"}}}"#), true),
        // Keys and variables in another case name the same fields (the evaluator lowercases them).
        (doc(#"{"Effect":"Deny","Action":"iot:Connect","NotResource":"arn:aws:iot:us-east-1:123456789012:client/${iot:certificate.Subject.CommonName}"}"#), true),
        (doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringNotEquals":{"IOT:CERTIFICATE.Issuer.Organization":"x"}}}"#), true),
    ])
    func referencesCertificate(document: String, references: Bool) throws {
        #expect(try PolicyDocument.parse(document).referencesCertificate == references)
    }

    @Test func theLengthLimitDoesNotCountWhitespace() throws {
        let p = Policies(try DeviceFixtures.database())
        let padded = Self.allowAll.replacingOccurrences(of: ",", with: String(repeating: " ", count: 1000) + ",")
        #expect(padded.count > 2048)
        #expect(DeviceFixtures.exception { try p.createPolicy(name: "P", document: padded, at: t0) } == nil)
    }

    @Test func crudAndVersions() throws {
        let db = try DeviceFixtures.database()
        let p = Policies(db)
        let created = try p.createPolicy(name: "PubSub", document: Self.allowAll, at: t0)
        #expect(created["policyVersionId"]?.stringValue == "1")
        #expect(created["policyArn"]?.stringValue == "arn:aws:iot:us-east-1:123456789012:policy/PubSub")
        #expect(DeviceFixtures.exception { try p.createPolicy(name: "PubSub", document: Self.allowAll, at: t0) } == "ResourceAlreadyExistsException")
        #expect(DeviceFixtures.exception { try p.createPolicy(name: "bad name", document: Self.allowAll, at: t0) } == "InvalidRequestException")
        let v2doc = Self.doc(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}"#)
        let v2 = try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: DeviceFixtures.t1)
        #expect(v2["policyVersionId"]?.stringValue == "2" && v2["isDefaultVersion"] == .bool(false))
        #expect(try p.getPolicy(name: "PubSub")["defaultVersionId"]?.stringValue == "1")
        #expect(try p.getPolicy(name: "PubSub")["policyDocument"]?.stringValue == Self.allowAll)
        _ = try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: true, at: DeviceFixtures.t1)
        #expect(try p.getPolicy(name: "PubSub")["defaultVersionId"]?.stringValue == "3")
        _ = try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: DeviceFixtures.t1)
        _ = try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: DeviceFixtures.t1)
        #expect(DeviceFixtures.exception { try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: t0) } == "VersionsLimitExceededException")
        let versions = try p.listPolicyVersions(name: "PubSub")["policyVersions"]!.arrayValue!
        #expect(versions.map { $0["versionId"]!.stringValue! } == ["5", "4", "3", "2", "1"])
        #expect(versions.filter { $0["isDefaultVersion"] == .bool(true) }.map { $0["versionId"]!.stringValue! } == ["3"])
        // The default version cannot be deleted; others can, and then there is room again.
        #expect(DeviceFixtures.exception { try p.deletePolicyVersion(name: "PubSub", versionId: "3") } == "DeleteConflictException")
        _ = try p.deletePolicyVersion(name: "PubSub", versionId: "5")
        #expect(DeviceFixtures.exception { try p.deletePolicyVersion(name: "PubSub", versionId: "5") } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.deletePolicyVersion(name: "PubSub", versionId: "x") } == "InvalidRequestException")
        #expect(try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: t0)["policyVersionId"]?.stringValue == "6")
        // Set default; get a version.
        _ = try p.setDefaultPolicyVersion(name: "PubSub", versionId: "1", at: DeviceFixtures.t1)
        #expect(try p.getPolicyVersion(name: "PubSub", versionId: "1")["isDefaultVersion"] == .bool(true))
        #expect(try p.getPolicyVersion(name: "PubSub", versionId: "2")["policyDocument"]?.stringValue == v2doc)
        #expect(DeviceFixtures.exception { try p.setDefaultPolicyVersion(name: "PubSub", versionId: "9", at: t0) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.getPolicyVersion(name: "PubSub", versionId: "9") } == "ResourceNotFoundException")
        // Delete: refused while other versions exist.
        #expect(DeviceFixtures.exception { try p.deletePolicy(name: "PubSub") } == "DeleteConflictException")
        for v in ["2", "3", "4", "6"] { _ = try p.deletePolicyVersion(name: "PubSub", versionId: v) }
        #expect(DeviceFixtures.exception { try p.deletePolicy(name: "PubSub") } == nil)
        #expect(DeviceFixtures.exception { try p.getPolicy(name: "PubSub") } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.deletePolicy(name: "PubSub") } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.createPolicyVersion(name: "PubSub", document: v2doc, setAsDefault: false, at: t0) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.listPolicyVersions(name: "PubSub") } == "ResourceNotFoundException")
    }

    @Test func listingPolicies() throws {
        let p = Policies(try DeviceFixtures.database())
        for n in ["c", "a", "e", "b", "d"] { _ = try p.createPolicy(name: n, document: Self.allowAll, at: t0) }
        func all(_ asc: Bool) throws -> [String] {
            var out: [String] = [], marker: String?
            repeat {
                let page = try p.listPolicies(pageSize: 2, marker: marker, ascendingOrder: asc)
                out += page["policies"]!.arrayValue!.map { $0["policyName"]!.stringValue! }
                marker = page["nextMarker"]?.stringValue
            } while marker != nil
            return out
        }
        #expect(try all(true) == ["a", "b", "c", "d", "e"])
        #expect(try all(false) == ["e", "d", "c", "b", "a"])
    }

    @Test func attachments() throws {
        let db = try DeviceFixtures.database()
        let p = Policies(db), certs = Certificates(db)
        let c = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: .ecP256, at: t0)
        let arn = c["certificateArn"]!.stringValue!
        _ = try p.createPolicy(name: "P", document: Self.allowAll, at: t0)
        _ = try p.attachPolicy(name: "P", target: arn, at: t0)
        _ = try p.attachPolicy(name: "P", target: arn, at: t0)  // again: no error
        #expect(try p.listAttachedPolicies(target: arn, recursive: false, pageSize: nil, marker: nil)["policies"]?.arrayValue?.map { $0["policyName"]!.stringValue! } == ["P"])
        #expect(try p.listTargetsForPolicy(name: "P", pageSize: nil, marker: nil)["targets"]?.arrayValue == [.string(arn)])
        #expect(DeviceFixtures.exception { try p.deletePolicy(name: "P") } == "DeleteConflictException")
        #expect(DeviceFixtures.exception { try p.attachPolicy(name: "Q", target: arn, at: t0) } == "ResourceNotFoundException")
        let ghost = "arn:aws:iot:us-east-1:123456789012:cert/" + String(repeating: "e", count: 64)
        #expect(DeviceFixtures.exception { try p.attachPolicy(name: "P", target: ghost, at: t0) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.attachPolicy(name: "P", target: "arn:aws:iot:us-east-1:123456789012:thinggroup/g", at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try p.listAttachedPolicies(target: ghost, recursive: false, pageSize: nil, marker: nil) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.listTargetsForPolicy(name: "Q", pageSize: nil, marker: nil) } == "ResourceNotFoundException")
        // Ten policies a target.
        for i in 2...10 {
            _ = try p.createPolicy(name: "P\(i)", document: Self.allowAll, at: t0)
            _ = try p.attachPolicy(name: "P\(i)", target: arn, at: t0)
        }
        _ = try p.createPolicy(name: "P11", document: Self.allowAll, at: t0)
        #expect(DeviceFixtures.exception { try p.attachPolicy(name: "P11", target: arn, at: t0) } == "LimitExceededException")
        let page = try p.listAttachedPolicies(target: arn, recursive: false, pageSize: 4, marker: nil)
        #expect(page["policies"]?.arrayValue?.count == 4 && page["nextMarker"] != nil)
        // Detach (not attached, or an unknown policy: no error, as the model has no not-found).
        _ = try p.detachPolicy(name: "P", target: arn)
        _ = try p.detachPolicy(name: "P", target: arn)
        _ = try p.detachPolicy(name: "Nope", target: arn)
        #expect(try p.listTargetsForPolicy(name: "P", pageSize: nil, marker: nil)["targets"]?.arrayValue == [])
        #expect(DeviceFixtures.exception { try p.deletePolicy(name: "P") } == nil)
    }

    @Test func effectivePoliciesAndAuthorization() throws {
        let db = try DeviceFixtures.database()
        let p = Policies(db), certs = Certificates(db)
        _ = try Registry(db).createThing(name: "pump-17", typeName: nil, attributes: [("site", "denver")], at: t0)
        let c = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: .ecP256, at: t0)
        let arn = c["certificateArn"]!.stringValue!
        let doc = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"},{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.Attributes[site]}/*"}]}"#
        _ = try p.createPolicy(name: "Thing", document: doc, at: t0)
        _ = try p.attachPolicy(name: "Thing", target: arn, at: t0)
        let client = "arn:aws:iot:us-east-1:123456789012:client/pump-17"
        // Not attached to the thing yet: the variable does not resolve.
        #expect(try p.authorize(principal: arn, clientId: "pump-17", action: "iot:Connect", resource: client) == .implicitDeny)
        _ = try certs.attachThingPrincipal(thingName: "pump-17", principal: arn, type: nil, at: t0)
        #expect(try p.authorize(principal: arn, clientId: "pump-17", action: "iot:Connect", resource: client) == .allowed)
        #expect(try p.authorize(principal: arn, clientId: "pump-18", action: "iot:Connect", resource: "arn:aws:iot:us-east-1:123456789012:client/pump-18") == .implicitDeny)
        #expect(try p.authorize(principal: arn, clientId: "pump-17", action: "iot:Publish", resource: "arn:aws:iot:us-east-1:123456789012:topic/denver/t") == .allowed)
        #expect(try p.authorize(principal: arn, clientId: "pump-17", action: "iot:Publish", resource: "arn:aws:iot:us-east-1:123456789012:topic/boulder/t") == .implicitDeny)
        let ctx = try p.connectionContext(principal: arn, clientId: "pump-17")
        #expect(ctx.thingName == "pump-17" && ctx.isAttached == true && ctx.thingAttributes == ["site": "denver"])
        #expect(ctx.certificate["Subject.CommonName"] == "fleetdex IoT Certificate")
        #expect(ctx.certificate["Issuer.Organization"] == "fleetdex")
        let csr = try certs.createCertificateFromCsr(csr: try DeviceFixtures.csr(commonName: "pump-17"), setAsActive: true, at: t0)
        let csrArn = csr["certificateArn"]!.stringValue!
        _ = try p.createPolicy(name: "ByCN", document: #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Certificate.Subject.CommonName}"}}"#, at: t0)
        _ = try p.attachPolicy(name: "ByCN", target: csrArn, at: t0)
        #expect(try p.authorize(principal: csrArn, clientId: "pump-17", action: "iot:Connect", resource: client) == .allowed)
        #expect(try p.authorize(principal: csrArn, clientId: "pump-18", action: "iot:Connect", resource: client + "8") == .implicitDeny)
        // Only the default version counts.
        _ = try p.createPolicyVersion(name: "Thing", document: PolicyTests.doc(#"{"Effect":"Deny","Action":"iot:*","Resource":"*"}"#), setAsDefault: true, at: t0)
        #expect(try p.authorize(principal: arn, clientId: "pump-17", action: "iot:Connect", resource: client) == .explicitDeny)
    }

    @Test func testAuthorization() throws {
        let db = try DeviceFixtures.database()
        let p = Policies(db), certs = Certificates(db)
        _ = try Registry(db).createThing(name: "pump-17", typeName: nil, attributes: nil, at: t0)
        let arn = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: .ecP256, at: t0)["certificateArn"]!.stringValue!
        _ = try certs.attachThingPrincipal(thingName: "pump-17", principal: arn, type: nil, at: t0)
        let topic = "arn:aws:iot:us-east-1:123456789012:topic/"
        _ = try p.createPolicy(name: "Own", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}","arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"]}]}"#, at: t0)
        _ = try p.createPolicy(name: "NoAdmin", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/pump-17/admin"}]}"#, at: t0)
        _ = try p.createPolicy(name: "Extra", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Subscribe","Resource":"*"}]}"#, at: t0)
        _ = try p.attachPolicy(name: "Own", target: arn, at: t0)
        _ = try p.attachPolicy(name: "NoAdmin", target: arn, at: t0)
        let infos = try JSONValue.parse(#"[{"actionType":"PUBLISH","resources":["\#(topic)pump-17/t"]},{"actionType":"PUBLISH","resources":["\#(topic)pump-17/t","\#(topic)pump-17/admin"]},{"actionType":"SUBSCRIBE","resources":["arn:aws:iot:us-east-1:123456789012:topicfilter/x"]},{"actionType":"CONNECT","resources":["arn:aws:iot:us-east-1:123456789012:client/pump-17"]}]"#)
        let r = try p.testAuthorization(principal: arn, clientId: "pump-17", authInfos: infos, policyNamesToAdd: [], policyNamesToSkip: [])
        let results = try #require(r["authResults"]?.arrayValue)
        #expect(results.map { $0["authDecision"]!.stringValue! } == ["ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY", "ALLOWED"])
        #expect(results[0]["allowed"]?["policies"]?.arrayValue?.map { $0["policyName"]!.stringValue! } == ["Own"])
        #expect(results[0]["denied"]?["implicitDeny"]?["policies"]?.arrayValue?.map { $0["policyName"]!.stringValue! } == ["NoAdmin"])
        #expect(results[1]["denied"]?["explicitDeny"]?["policies"]?.arrayValue?.map { $0["policyName"]!.stringValue! } == ["NoAdmin"])
        // Added and skipped policies.
        let sub = try JSONValue.parse(#"[{"actionType":"SUBSCRIBE","resources":["arn:aws:iot:us-east-1:123456789012:topicfilter/x"]}]"#)
        let added = try p.testAuthorization(principal: arn, clientId: "pump-17", authInfos: sub, policyNamesToAdd: ["Extra"], policyNamesToSkip: [])
        #expect(added["authResults"]?.arrayValue?.first?["authDecision"]?.stringValue == "ALLOWED")
        let skipped = try p.testAuthorization(principal: arn, clientId: "pump-17", authInfos: infos, policyNamesToAdd: [], policyNamesToSkip: ["NoAdmin"])
        #expect(skipped["authResults"]?.arrayValue?[1]["authDecision"]?.stringValue == "ALLOWED")
        // A missing client id leaves the thing and client variables unresolved.
        let bare = try p.testAuthorization(principal: arn, clientId: nil, authInfos: infos, policyNamesToAdd: [], policyNamesToSkip: [])
        #expect(bare["authResults"]?.arrayValue?[0]["missingContextValues"]?.arrayValue == [.string("iot:ClientId"), .string("iot:Connection.Thing.ThingName")])
        #expect(bare["authResults"]?.arrayValue?[0]["authDecision"]?.stringValue == "IMPLICIT_DENY")
        // Errors.
        #expect(DeviceFixtures.exception { try p.testAuthorization(principal: arn, clientId: nil, authInfos: .array([]), policyNamesToAdd: [], policyNamesToSkip: []) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try p.testAuthorization(principal: arn, clientId: nil, authInfos: try JSONValue.parse(#"[{"actionType":"FLY","resources":["x"]}]"#), policyNamesToAdd: [], policyNamesToSkip: []) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try p.testAuthorization(principal: arn, clientId: nil, authInfos: sub, policyNamesToAdd: ["Nope"], policyNamesToSkip: []) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try p.testAuthorization(principal: "arn:aws:iot:us-east-1:123456789012:cert/" + String(repeating: "a", count: 64), clientId: nil, authInfos: sub, policyNamesToAdd: [], policyNamesToSkip: []) } == "ResourceNotFoundException")
    }
}
