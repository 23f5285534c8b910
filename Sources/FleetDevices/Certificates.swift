// FleetDevices: X.509 certificates and thing principals. Each public method is one AWS
// operation: a request in, the response shaped as the botocore `iot` model out. A
// certificate's id is AWS's: the lowercase hex SHA-256 of its DER.
import Crypto
import FleetIndex
import FleetSQLite
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The certificate and thing-principal operations.
public struct Certificates {
    public let db: FleetDatabase
    var certificates: CertificateStore { CertificateStore(c: db.connection) }
    var policies: PolicyStore { PolicyStore(c: db.connection) }

    public init(_ db: FleetDatabase) { self.db = db }

    public func certificateARN(_ id: String) -> String { db.iotARN("cert/\(id)") }

    // MARK: creating

    /// CreateKeysAndCertificate: a new key pair (RSA 2048, as AWS makes; `keyAlgorithm` for
    /// a faster EC key) and a certificate for it signed by the database's CA. The only
    /// response that carries a private key.
    public func createKeysAndCertificate(setAsActive: Bool, keyAlgorithm: KeyAlgorithm = .rsa2048, at now: Int64) throws -> JSONValue {
        try createKeysAndCertificate(setAsActive: setAsActive, keyPair: try DeviceKeyPair.generate(keyAlgorithm), at: now)
    }

    /// CreateKeysAndCertificate with a key pair made beforehand (serve makes it off its write
    /// thread).
    public func createKeysAndCertificate(setAsActive: Bool, keyPair: DeviceKeyPair, at now: Int64) throws -> JSONValue {
        let ca = try CertificateAuthority.load(db, at: now)
        let key = keyPair.privateKey
        let cert = try ca.issueDevice(publicKey: key.publicKey, subject: try DistinguishedName { CommonName("fleetdex IoT Certificate") }, at: now)
        let (id, pem) = try store(cert, status: setAsActive ? "ACTIVE" : "INACTIVE", caId: ca.certificateId, mode: "DEFAULT", at: now)
        return jsonObject([
            ("certificateArn", .string(certificateARN(id))),
            ("certificateId", .string(id)),
            ("certificatePem", .string(pem)),
            ("keyPair", jsonObject([
                ("PublicKey", .string(try key.publicKey.serializeAsPEM().pemString)),
                ("PrivateKey", .string(try key.serializeAsPEM().pemString)),
            ])),
        ])
    }

    /// CreateCertificateFromCsr: the CSR's subject and public key (RSA ≥ 2048 bits or ECDSA
    /// P-256/P-384/P-521, its signature checked) in a certificate signed by the CA. The same
    /// CSR twice gives two certificates (new serial numbers).
    public func createCertificateFromCsr(csr pemText: String, setAsActive: Bool, at now: Int64) throws -> JSONValue {
        guard !pemText.isEmpty, pemText.utf8.count <= 4096 else {
            throw FleetError.invalid(member: "certificateSigningRequest", "must be 1 to 4096 characters long")
        }
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: pemText) } catch {
            throw FleetError.invalid(member: "certificateSigningRequest", "is not a PEM certificate signing request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw FleetError.invalid("The certificate signing request's signature does not verify with its public key.")
        }
        try Self.checkKey(csr.publicKey, what: "certificate signing request")
        let ca = try CertificateAuthority.load(db, at: now)
        let cert = try ca.issueDevice(publicKey: csr.publicKey, subject: csr.subject, at: now)
        let (id, pem) = try store(cert, status: setAsActive ? "ACTIVE" : "INACTIVE", caId: ca.certificateId, mode: "DEFAULT", at: now)
        return jsonObject([
            ("certificateArn", .string(certificateARN(id))),
            ("certificateId", .string(id)),
            ("certificatePem", .string(pem)),
        ])
    }

    /// RegisterCertificateWithoutCA: a certificate made elsewhere (SNI_ONLY mode, as AWS
    /// registers CA-less certificates), INACTIVE unless `status` says ACTIVE.
    public func registerCertificateWithoutCA(pem pemText: String, status: String?, at now: Int64) throws -> JSONValue {
        let status = status ?? "INACTIVE"
        guard status == "ACTIVE" || status == "INACTIVE" else {
            throw FleetError.invalid(member: "status", "must be ACTIVE or INACTIVE to register a certificate, got '\(status)'")
        }
        guard !pemText.isEmpty, pemText.utf8.count <= 65536 else {
            throw FleetError.invalid(member: "certificatePem", "must be 1 to 65536 characters long")
        }
        let cert: Certificate
        do { cert = try Certificate(pemEncoded: pemText) } catch {
            throw FleetError(.certificateValidation, "The certificate is not a valid PEM X.509 certificate.")
        }
        do { try Self.checkKey(cert.publicKey, what: "certificate") } catch let e as FleetError {
            throw FleetError(.certificateValidation, e.message)
        }
        let ca = try CertificateAuthority.existing(db)
        let issuedHere = ca.map { cert.issuer == $0.certificate.subject && $0.certificate.publicKey.isValidSignature(cert.signature, for: cert) } ?? false
        let (id, _) = try store(cert, status: status, caId: issuedHere ? ca?.certificateId : nil, mode: "SNI_ONLY", at: now)
        return jsonObject([("certificateArn", .string(certificateARN(id))), ("certificateId", .string(id))])
    }

    /// RSA of at least 2048 bits, or ECDSA on P-256, P-384 or P-521 (what AWS IoT accepts).
    static func checkKey(_ key: Certificate.PublicKey, what: String) throws {
        if let rsa = _RSA.Signing.PublicKey(key) {
            guard rsa.keySizeInBits >= 2048 else {
                throw FleetError.invalid("The \(what)'s RSA key has \(rsa.keySizeInBits) bits; at least 2048 are needed.")
            }
            return
        }
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil || P521.Signing.PublicKey(key) != nil { return }
        throw FleetError.invalid("The \(what)'s key must be RSA (2048 bits or more) or ECDSA on NIST P-256, P-384 or P-521.")
    }

    func store(_ cert: Certificate, status: String, caId: String?, mode: String, at now: Int64) throws -> (id: String, pem: String) {
        let der = try derBytes(cert)
        let id = sha256Hex(der)
        let pem = try cert.serializeAsPEM().pemString
        let notBefore = Int64(cert.notValidBefore.timeIntervalSince1970 * 1000)
        let notAfter = Int64(cert.notValidAfter.timeIntervalSince1970 * 1000)
        try db.transaction {
            if try certificates.exists(certificateId: id) {
                throw FleetError.alreadyExists("The certificate is already provisioned or registered (certificateId=\(id)).")
            }
            try certificates.insert(certificateId: id, pem: pem, status: status, caId: caId, mode: mode, notBefore: notBefore, notAfter: notAfter,
                                    generation: FleetDatabase.hex32() + FleetDatabase.hex32(), at: now)
        }
        return (id, pem)
    }

    // MARK: reading

    typealias Row = CertificateRecord

    /// `certificateId`: 64 hex digits (an optional 0x prefix, as the model's pattern allows).
    static func normalizedId(_ id: String) throws(FleetError) -> String {
        var s = Substring(id)
        if s.hasPrefix("0x") { s = s.dropFirst(2) }
        guard s.count == 64, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }) else {
            throw .invalid(member: "certificateId", "must be 64 hexadecimal digits, got '\(id)'")
        }
        return s.lowercased()
    }

    func find(_ id: String) throws -> Row? {
        try certificates.certificate(id)
    }

    func require(_ rawId: String) throws -> Row {
        let id = try Self.normalizedId(rawId)
        guard let r = try find(id) else { throw FleetError.notFound("The certificate \(id) does not exist.") }
        return r
    }

    /// The certificate id of a certificate ARN of this account and region; nil for anything else.
    func certificateId(fromARN arn: String) -> String? {
        let prefix = db.iotARN("cert/")
        guard arn.hasPrefix(prefix) else { return nil }
        return try? Self.normalizedId(String(arn.dropFirst(prefix.count)))
    }

    /// DescribeCertificate.
    public func describeCertificate(id: String) throws -> JSONValue {
        let r = try require(id)
        return jsonObject([("certificateDescription", jsonObject([
            ("certificateArn", .string(certificateARN(r.id))),
            ("certificateId", .string(r.id)),
            ("caCertificateId", r.caId.map(JSONValue.string)),
            ("status", .string(r.status)),
            ("certificatePem", .string(r.pem)),
            ("ownedBy", .string(db.account)),
            ("creationDate", .string(Timestamp.iso(r.created))),
            ("lastModifiedDate", .string(Timestamp.iso(r.modified))),
            ("customerVersion", .int(r.customerVersion)),
            ("generationId", .string(r.generation)),
            ("validity", jsonObject([("notBefore", .string(Timestamp.iso(r.notBefore))), ("notAfter", .string(Timestamp.iso(r.notAfter)))])),
            ("certificateMode", .string(r.mode)),
        ]))])
    }

    /// ListCertificates: newest first unless `ascendingOrder`, `pageSize` (default 25) at a time.
    public func listCertificates(pageSize: Int?, marker: String?, ascendingOrder: Bool) throws -> JSONValue {
        let limit = try Marker.pageSize(pageSize)
        let scope = "list-certificates|\(ascendingOrder)"
        var position: (created: Int64, rowid: Int64)? = nil
        if let pos = try Marker.position(marker, scope: scope) {
            let parts = pos.split(separator: ":")
            guard parts.count == 2, let created = Int64(parts[0]), let rowid = Int64(parts[1]) else {
                throw FleetError.invalid(member: "marker", "is not valid for this request")
            }
            position = (created, rowid)
        }
        let rows = try certificates.certificates(after: position, ascending: ascendingOrder, limit: limit + 1)
        let page = rows.prefix(limit)
        return jsonObject([
            ("certificates", .array(page.map { r in
                jsonObject([("certificateArn", .string(certificateARN(r.id))), ("certificateId", .string(r.id)),
                            ("status", .string(r.status)), ("certificateMode", .string(r.mode)),
                            ("creationDate", .string(Timestamp.iso(r.created)))])
            })),
            ("nextMarker", rows.count > limit ? .string(Marker.encode("\(page.last!.created):\(page.last!.rowid)", scope: scope)) : nil),
        ])
    }

    // MARK: status and deletion

    /// UpdateCertificate: ACTIVE, INACTIVE or REVOKED. A revoked certificate stays revoked;
    /// PENDING_TRANSFER and PENDING_ACTIVATION are AWS's own, REGISTER_INACTIVE deprecated.
    public func updateCertificate(id: String, newStatus: String, at now: Int64) throws -> JSONValue {
        switch newStatus {
        case "ACTIVE", "INACTIVE", "REVOKED": break
        case "PENDING_TRANSFER", "PENDING_ACTIVATION", "REGISTER_INACTIVE":
            throw FleetError.invalid(member: "newStatus", "cannot be set to \(newStatus) (a status IoT uses internally or a deprecated one)")
        default:
            throw FleetError.invalid(member: "newStatus", "must be one of ACTIVE, INACTIVE, REVOKED, got '\(newStatus)'")
        }
        return try db.transaction {
            let r = try require(id)
            if r.status == newStatus { return .object([]) }
            if r.status == "REVOKED" {
                throw FleetError.certificateState("The certificate \(r.id) is revoked and cannot be set to \(newStatus).")
            }
            try certificates.setStatus(r.rowid, newStatus, at: now)
            return .object([])
        }
    }

    /// DeleteCertificate: refused while ACTIVE, while attached to a thing, and while policies
    /// are attached unless `forceDelete` (which detaches them).
    public func deleteCertificate(id: String, forceDelete: Bool) throws -> JSONValue {
        try db.transaction {
            let r = try require(id)
            if r.status == "ACTIVE" {
                throw FleetError.certificateState("The certificate \(r.id) must be deactivated (not ACTIVE) before deletion.")
            }
            let arn = certificateARN(r.id)
            if try certificates.isAttachedToAThing(principal: arn) {
                throw FleetError.deleteConflict("Things must be detached before deletion (arn: \(arn)).")
            }
            let attached = try policies.policyCount(target: arn)
            if attached > 0 {
                guard forceDelete else {
                    throw FleetError.deleteConflict("Certificate policies must be detached before deletion (arn: \(arn)).")
                }
                try policies.detachAll(target: arn)
            }
            try certificates.delete(r.rowid)
            return .object([])
        }
    }

    // MARK: the MQTT endpoint

    /// A presented client certificate (DER): its record, or nil when it is not registered.
    public func lookup(presentedDER der: [UInt8]) throws -> PresentedCertificate? {
        let id = sha256Hex(der)
        guard let r = try find(id) else { return nil }
        let things = try certificates.things(ofPrincipal: certificateARN(id))
        return PresentedCertificate(certificateId: id, certificateArn: certificateARN(id), status: r.status,
                                    thingNames: things.map(\.0), exclusiveThing: things.first { $0.1 == "EXCLUSIVE_THING" }?.0)
    }

    /// The `iot:Certificate.*` policy variables of a stored certificate: `Subject.` and
    /// `Issuer.` with CommonName, Organization, OrganizationalUnit, Country, State, Locality
    /// (the first value of each; AWS's multi-valued `.List` forms are not made).
    public func policyVariables(certificateId: String) throws -> [String: String] {
        guard let r = try find(certificateId), let cert = try? Certificate(pemEncoded: r.pem) else { return [:] }
        var out: [String: String] = [:]
        let names: [(ASN1ObjectIdentifier, String)] = [
            (.RDNAttributeType.commonName, "CommonName"), (.RDNAttributeType.organizationName, "Organization"),
            (.RDNAttributeType.organizationalUnitName, "OrganizationalUnit"), (.RDNAttributeType.countryName, "Country"),
            (.RDNAttributeType.stateOrProvinceName, "State"), (.RDNAttributeType.localityName, "Locality"),
        ]
        for (prefix, dn) in [("Subject.", cert.subject), ("Issuer.", cert.issuer)] {
            for rdn in dn {
                for a in rdn {
                    guard let name = names.first(where: { $0.0 == a.type })?.1, let text = String(a.value) else { continue }
                    if out[prefix + name] == nil { out[prefix + name] = text }
                }
            }
        }
        return out
    }

    // MARK: thing principals

    func thingRow(_ name: String) throws -> Int64 {
        try Validation.name(name, "thingName")
        guard let id = try certificates.thingID(named: name) else {
            throw FleetError.notFound("Thing \(name) cannot be found.")
        }
        return id
    }

    /// A principal: a certificate ARN of this account (which must exist) or an Amazon
    /// Cognito identity id (`region:uuid`), taken as given.
    func checkPrincipal(_ principal: String) throws {
        if principal.hasPrefix("arn:") {
            guard let id = certificateId(fromARN: principal) else {
                throw FleetError.invalid(member: "principal", "must be a certificate ARN (\(db.iotARN("cert/<certificateId>"))) or an Amazon Cognito identity id, got '\(principal)'")
            }
            guard try find(id) != nil else { throw FleetError.notFound("The certificate \(id) does not exist.") }
            guard principal == certificateARN(id) else {
                throw FleetError.invalid(member: "principal", "must name the certificate id in lower case: \(certificateARN(id))")
            }
            return
        }
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, principal.count <= 128 else {
            throw FleetError.invalid(member: "principal", "must be a certificate ARN or an Amazon Cognito identity id, got '\(principal)'")
        }
    }

    /// AttachThingPrincipal. An EXCLUSIVE_THING principal is attached to that thing only.
    public func attachThingPrincipal(thingName: String, principal: String, type: String?, at now: Int64) throws -> JSONValue {
        let type = type ?? "NON_EXCLUSIVE_THING"
        guard type == "EXCLUSIVE_THING" || type == "NON_EXCLUSIVE_THING" else {
            throw FleetError.invalid(member: "thingPrincipalType", "must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got '\(type)'")
        }
        return try db.transaction {
            let thing = try thingRow(thingName)
            try checkPrincipal(principal)
            let others = try certificates.things(ofPrincipal: principal, except: thing)
            if type == "EXCLUSIVE_THING", let other = others.first {
                throw FleetError.invalid("The principal is already attached to thing \(other.0); an exclusive attachment must be its only one.")
            }
            if let other = others.first(where: { $0.1 == "EXCLUSIVE_THING" }) {
                throw FleetError.invalid("The principal is attached exclusively to thing \(other.0).")
            }
            try certificates.attach(thing: thing, principal: principal, type: type, at: now)
            return .object([])
        }
    }

    /// DetachThingPrincipal (a principal that is not attached is no error).
    public func detachThingPrincipal(thingName: String, principal: String) throws -> JSONValue {
        let thing = try thingRow(thingName)
        try certificates.detach(thing: thing, principal: principal)
        return .object([])
    }

    /// ListThingPrincipals: the principals' ARNs (ids), in order.
    public func listThingPrincipals(thingName: String, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 25, max: 250)
        let thing = try thingRow(thingName)
        let scope = "list-thing-principals|\(thingName)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let rows = try certificates.principals(ofThing: thing, after: after, limit: limit + 1)
        let page = rows.prefix(limit)
        return jsonObject([
            ("principals", .array(page.map(JSONValue.string))),
            ("nextToken", rows.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }

    /// ListPrincipalThings: the names of the things a principal is attached to.
    public func listPrincipalThings(principal: String, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 25, max: 250)
        try checkPrincipal(principal)
        let scope = "list-principal-things|\(principal)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let rows = try certificates.thingNames(ofPrincipal: principal, after: after, limit: limit + 1)
        let page = rows.prefix(limit)
        return jsonObject([
            ("things", .array(page.map(JSONValue.string))),
            ("nextToken", rows.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }
}

/// What the MQTT endpoint learns of a presented client certificate.
public struct PresentedCertificate: Sendable, Equatable {
    public var certificateId: String
    public var certificateArn: String
    public var status: String
    /// The things the certificate is attached to, by name.
    public var thingNames: [String]
    /// The thing it is attached to exclusively, if any.
    public var exclusiveThing: String?
    public var isActive: Bool { status == "ACTIVE" }
}
