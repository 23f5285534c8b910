// fleetdex: certificates, thing principals and policies (aws iot names and flags), and the
// database's certificate authority (get-root-ca).
import ArgumentParser
import FleetDevices
import FleetIndex
import Foundation

/// A text flag: the text itself, or `file://PATH` holding it (as the AWS CLI reads them).
func textArgument(_ text: String, _ flag: String) throws -> String {
    guard text.hasPrefix("file://") else { return text }
    let path = String(text.dropFirst("file://".count))
    guard let data = FileManager.default.contents(atPath: path) else {
        throw FleetError(.invalidRequest, "\(flag): cannot read \(path)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// The AWS CLI's `--…-outfile` customizations: a response member also written to a file.
func writeOutfile(_ value: JSONValue?, to path: String?, ownerOnly: Bool = false) throws {
    guard let path, let text = value?.stringValue else { return }
    if ownerOnly {
        try CertificateAuthority.writeOwnerOnly(text, to: path)
    } else if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
        throw FleetError(.invalidRequest, "cannot write \(path)")
    }
}

extension KeyAlgorithm: ExpressibleByArgument {}

struct GetRootCA: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-root-ca",
        abstract: "Print the database's root CA certificate (PEM), making the CA on first use.",
        discussion: "The CA's private key is kept beside the database in <db>.ca/ca-key.pem (mode 0600) and never printed.\n\n"
            + example("fleetdex get-root-ca > root-ca.pem", "fleetdex get-root-ca --key-algorithm RSA_2048   # RSA for a new CA"))
    @OptionGroup var g: GlobalOptions
    @Option(help: "The key of a CA made now: EC_prime256v1 (default) or RSA_2048.") var keyAlgorithm: KeyAlgorithm?
    func run() throws {
        Output.write(try CertificateAuthority.rootPEM(try g.open(), algorithm: keyAlgorithm, at: try g.now()))
    }
}

struct CreateKeysAndCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-keys-and-certificate",
        abstract: "Create an RSA 2048 key pair and a certificate for it signed by the database's CA.",
        discussion: "The response is the only place the private key appears.\n\n"
            + example("fleetdex create-keys-and-certificate --set-as-active --certificate-pem-outfile dev.pem --private-key-outfile dev.key"))
    @OptionGroup var g: GlobalOptions
    @Flag(inversion: .prefixedNo) var setAsActive = false
    @Option var certificatePemOutfile: String?
    @Option var publicKeyOutfile: String?
    @Option(help: "Written with mode 0600.") var privateKeyOutfile: String?
    func run() throws {
        let r = try Certificates(try g.open()).createKeysAndCertificate(setAsActive: setAsActive, at: try g.now())
        try writeOutfile(r["certificatePem"], to: certificatePemOutfile)
        try writeOutfile(r["keyPair"]?["PublicKey"], to: publicKeyOutfile)
        try writeOutfile(r["keyPair"]?["PrivateKey"], to: privateKeyOutfile, ownerOnly: true)
        Output.emit(r, try g.format())
    }
}

struct CreateCertificateFromCsr: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-certificate-from-csr",
        abstract: "Create a certificate signed by the database's CA from a certificate signing request.",
        discussion: example("fleetdex create-certificate-from-csr --certificate-signing-request file://device.csr --set-as-active"))
    @OptionGroup var g: GlobalOptions
    @Option(help: "PEM as file://PATH, or inline as --flag=\"$(cat FILE)\" (a value starting with ----- needs the = form).") var certificateSigningRequest: String
    @Flag(inversion: .prefixedNo) var setAsActive = false
    @Option var certificatePemOutfile: String?
    func run() throws {
        let csr = try textArgument(certificateSigningRequest, "--certificate-signing-request")
        let r = try Certificates(try g.open()).createCertificateFromCsr(csr: csr, setAsActive: setAsActive, at: try g.now())
        try writeOutfile(r["certificatePem"], to: certificatePemOutfile)
        Output.emit(r, try g.format())
    }
}

struct RegisterCertificateWithoutCA: ParsableCommand {
    static let configuration = CommandConfiguration(command: "register-certificate-without-ca",
        abstract: "Register a certificate made elsewhere (no CA registered for it).",
        discussion: example("fleetdex register-certificate-without-ca --certificate-pem file://device.pem --status ACTIVE"))
    @OptionGroup var g: GlobalOptions
    @Option(help: "PEM as file://PATH, or inline as --flag=\"$(cat FILE)\" (a value starting with ----- needs the = form).") var certificatePem: String
    @Option(help: "ACTIVE or INACTIVE (default).") var status: String?
    func run() throws {
        let pem = try textArgument(certificatePem, "--certificate-pem")
        Output.emit(try Certificates(try g.open()).registerCertificateWithoutCA(pem: pem, status: status, at: try g.now()), try g.format())
    }
}

struct DescribeCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-certificate", abstract: "Describe a certificate.",
        discussion: example("fleetdex describe-certificate --certificate-id 4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var certificateId: String
    func run() throws { Output.emit(try Certificates(try g.open()).describeCertificate(id: certificateId), try g.format()) }
}

struct ListCertificates: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-certificates", abstract: "List certificates, newest first (25 a page).",
        discussion: example("fleetdex list-certificates --page-size 10 --ascending-order"))
    @OptionGroup var g: GlobalOptions
    @Option var pageSize: Int?
    @Option var marker: String?
    @Flag(inversion: .prefixedNo) var ascendingOrder = false
    func run() throws {
        Output.emit(try Certificates(try g.open()).listCertificates(pageSize: pageSize, marker: marker, ascendingOrder: ascendingOrder), try g.format())
    }
}

struct UpdateCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-certificate",
        abstract: "Set a certificate's status: ACTIVE, INACTIVE or REVOKED (a revoked certificate stays revoked).",
        discussion: example("fleetdex update-certificate --certificate-id 4f0ba7...e2 --new-status INACTIVE"))
    @OptionGroup var g: GlobalOptions
    @Option var certificateId: String
    @Option var newStatus: String
    func run() throws {
        Output.emit(try Certificates(try g.open()).updateCertificate(id: certificateId, newStatus: newStatus, at: try g.now()), try g.format())
    }
}

struct DeleteCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-certificate",
        abstract: "Delete a certificate that is not ACTIVE and has no thing attached (--force-delete detaches its policies).",
        discussion: example("fleetdex delete-certificate --certificate-id 4f0ba7...e2 --force-delete"))
    @OptionGroup var g: GlobalOptions
    @Option var certificateId: String
    @Flag(inversion: .prefixedNo) var forceDelete = false
    func run() throws {
        Output.emit(try Certificates(try g.open()).deleteCertificate(id: certificateId, forceDelete: forceDelete), try g.format())
    }
}

struct AttachThingPrincipal: ParsableCommand {
    static let configuration = CommandConfiguration(command: "attach-thing-principal", abstract: "Attach a principal (a certificate ARN) to a thing.",
        discussion: example("fleetdex attach-thing-principal --thing-name pump-17 --principal arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var principal: String
    @Option(help: "EXCLUSIVE_THING or NON_EXCLUSIVE_THING (default).") var thingPrincipalType: String?
    func run() throws {
        Output.emit(try Certificates(try g.open()).attachThingPrincipal(thingName: thingName, principal: principal, type: thingPrincipalType,
                                                                         at: try g.now()), try g.format())
    }
}

struct DetachThingPrincipal: ParsableCommand {
    static let configuration = CommandConfiguration(command: "detach-thing-principal", abstract: "Detach a principal from a thing.",
        discussion: example("fleetdex detach-thing-principal --thing-name pump-17 --principal arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var principal: String
    func run() throws {
        Output.emit(try Certificates(try g.open()).detachThingPrincipal(thingName: thingName, principal: principal), try g.format())
    }
}

struct ListThingPrincipals: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-thing-principals", abstract: "List the principals attached to a thing.",
        discussion: example("fleetdex list-thing-principals --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Certificates(try g.open()).listThingPrincipals(thingName: thingName, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct ListPrincipalThings: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-principal-things", abstract: "List the things a principal is attached to.",
        discussion: example("fleetdex list-principal-things --principal arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var principal: String
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Certificates(try g.open()).listPrincipalThings(principal: principal, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct CreatePolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-policy", abstract: "Create an IoT policy (its version 1, the default).",
        discussion: example(#"fleetdex create-policy --policy-name PubSub --policy-document file://policy.json"#))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option(help: "JSON, or file://PATH.") var policyDocument: String
    func run() throws {
        let doc = try textArgument(policyDocument, "--policy-document")
        Output.emit(try Policies(try g.open()).createPolicy(name: policyName, document: doc, at: try g.now()), try g.format())
    }
}

struct GetPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-policy", abstract: "Get a policy with its default version's document.",
        discussion: example("fleetdex get-policy --policy-name PubSub"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    func run() throws { Output.emit(try Policies(try g.open()).getPolicy(name: policyName), try g.format()) }
}

struct ListPolicies: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-policies", abstract: "List policies.",
        discussion: example("fleetdex list-policies --ascending-order"))
    @OptionGroup var g: GlobalOptions
    @Option var marker: String?
    @Option var pageSize: Int?
    @Flag(inversion: .prefixedNo) var ascendingOrder = false
    func run() throws {
        Output.emit(try Policies(try g.open()).listPolicies(pageSize: pageSize, marker: marker, ascendingOrder: ascendingOrder), try g.format())
    }
}

struct DeletePolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-policy",
        abstract: "Delete a policy that is attached nowhere and has no version besides the default.",
        discussion: example("fleetdex delete-policy --policy-name PubSub"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    func run() throws { Output.emit(try Policies(try g.open()).deletePolicy(name: policyName), try g.format()) }
}

struct CreatePolicyVersion: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-policy-version", abstract: "Create a new version of a policy (five at most).",
        discussion: example("fleetdex create-policy-version --policy-name PubSub --policy-document file://v2.json --set-as-default"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option(help: "JSON, or file://PATH.") var policyDocument: String
    @Flag(inversion: .prefixedNo) var setAsDefault = false
    func run() throws {
        let doc = try textArgument(policyDocument, "--policy-document")
        Output.emit(try Policies(try g.open()).createPolicyVersion(name: policyName, document: doc, setAsDefault: setAsDefault, at: try g.now()), try g.format())
    }
}

struct ListPolicyVersions: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-policy-versions", abstract: "List a policy's versions.",
        discussion: example("fleetdex list-policy-versions --policy-name PubSub"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    func run() throws { Output.emit(try Policies(try g.open()).listPolicyVersions(name: policyName), try g.format()) }
}

struct GetPolicyVersion: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-policy-version", abstract: "Get one version of a policy.",
        discussion: example("fleetdex get-policy-version --policy-name PubSub --policy-version-id 2"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var policyVersionId: String
    func run() throws { Output.emit(try Policies(try g.open()).getPolicyVersion(name: policyName, versionId: policyVersionId), try g.format()) }
}

struct SetDefaultPolicyVersion: ParsableCommand {
    static let configuration = CommandConfiguration(command: "set-default-policy-version", abstract: "Make a version the policy's operative one.",
        discussion: example("fleetdex set-default-policy-version --policy-name PubSub --policy-version-id 1"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var policyVersionId: String
    func run() throws {
        Output.emit(try Policies(try g.open()).setDefaultPolicyVersion(name: policyName, versionId: policyVersionId, at: try g.now()), try g.format())
    }
}

struct DeletePolicyVersion: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-policy-version", abstract: "Delete a version of a policy other than the default.",
        discussion: example("fleetdex delete-policy-version --policy-name PubSub --policy-version-id 1"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var policyVersionId: String
    func run() throws { Output.emit(try Policies(try g.open()).deletePolicyVersion(name: policyName, versionId: policyVersionId), try g.format()) }
}

struct AttachPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "attach-policy", abstract: "Attach a policy to a certificate.",
        discussion: example("fleetdex attach-policy --policy-name PubSub --target arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var target: String
    func run() throws { Output.emit(try Policies(try g.open()).attachPolicy(name: policyName, target: target, at: try g.now()), try g.format()) }
}

struct DetachPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "detach-policy", abstract: "Detach a policy from a certificate.",
        discussion: example("fleetdex detach-policy --policy-name PubSub --target arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var target: String
    func run() throws { Output.emit(try Policies(try g.open()).detachPolicy(name: policyName, target: target), try g.format()) }
}

struct ListAttachedPolicies: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-attached-policies", abstract: "List the policies attached to a certificate.",
        discussion: example("fleetdex list-attached-policies --target arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2"))
    @OptionGroup var g: GlobalOptions
    @Option var target: String
    @Flag(inversion: .prefixedNo) var recursive = false
    @Option var marker: String?
    @Option var pageSize: Int?
    func run() throws {
        Output.emit(try Policies(try g.open()).listAttachedPolicies(target: target, recursive: recursive, pageSize: pageSize, marker: marker), try g.format())
    }
}

struct ListTargetsForPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-targets-for-policy", abstract: "List the certificates a policy is attached to.",
        discussion: example("fleetdex list-targets-for-policy --policy-name PubSub"))
    @OptionGroup var g: GlobalOptions
    @Option var policyName: String
    @Option var marker: String?
    @Option var pageSize: Int?
    func run() throws {
        Output.emit(try Policies(try g.open()).listTargetsForPolicy(name: policyName, pageSize: pageSize, marker: marker), try g.format())
    }
}

struct TestAuthorization: ParsableCommand {
    static let configuration = CommandConfiguration(command: "test-authorization",
        abstract: "Decide MQTT actions against a principal's policies, as a connection by --client-id would be decided.",
        discussion: example(#"fleetdex test-authorization --principal arn:aws:iot:us-east-1:123456789012:cert/4f0ba7...e2 --client-id pump-17 --auth-infos '[{"actionType":"PUBLISH","resources":["arn:aws:iot:us-east-1:123456789012:topic/pump-17/t"]}]'"#))
    @OptionGroup var g: GlobalOptions
    @Option var principal: String?
    @Option var clientId: String?
    @Option(help: "JSON or file://: [{\"actionType\":\"PUBLISH|SUBSCRIBE|RECEIVE|CONNECT\",\"resources\":[ARN,...]}]") var authInfos: String
    @Option(parsing: .upToNextOption) var policyNamesToAdd: [String] = []
    @Option(parsing: .upToNextOption) var policyNamesToSkip: [String] = []
    func run() throws {
        let infos = try structured(authInfos, "--auth-infos")
        Output.emit(try Policies(try g.open()).testAuthorization(principal: principal, clientId: clientId, authInfos: infos,
                                                                 policyNamesToAdd: policyNamesToAdd, policyNamesToSkip: policyNamesToSkip), try g.format())
    }
}
