// FleetDevices: the database's certificate authority. Made on first use: a self-signed root
// (ECDSA P-256 by default, RSA 2048 on request) whose certificate is a row of the database
// and whose private key is a file beside it, `<db>.ca/ca-key.pem`, mode 0600 in a 0700
// folder: a copy of the database carries no signing key, and the key is never printed.
// It signs the device certificates (create-keys-and-certificate, create-certificate-from-csr)
// and the MQTT endpoint's server certificate.
import Crypto
import FleetIndex
import FleetSQLite
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The kinds of key fleetdex makes (the names AWS uses for key algorithms).
public enum KeyAlgorithm: String, Sendable, CaseIterable {
    case ecP256 = "EC_prime256v1"
    case rsa2048 = "RSA_2048"

    /// A new private key of this kind.
    func generate() throws -> Certificate.PrivateKey {
        switch self {
        case .ecP256: return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048: return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }
}

/// The CA of one database.
public struct CertificateAuthority {
    public let certificate: Certificate
    public let certificatePEM: String
    /// The lowercase hex SHA-256 of the root's DER.
    public let certificateId: String
    public let keyAlgorithm: KeyAlgorithm
    let privateKey: Certificate.PrivateKey

    /// Where the CA's key of the database at `databasePath` lives.
    public static func keyPath(forDatabase databasePath: String) -> String {
        databasePath + ".ca/ca-key.pem"
    }

    /// The CA of `db`, made now (with `algorithm`, default ECDSA P-256) if it has none. An
    /// explicit `algorithm` that differs from an existing CA's is refused.
    public static func load(_ db: FleetDatabase, algorithm: KeyAlgorithm? = nil, at now: Int64) throws -> CertificateAuthority {
        if let ca = try existing(db) {
            if let algorithm, algorithm != ca.keyAlgorithm {
                throw FleetError.conflict("the database's certificate authority exists already with a \(ca.keyAlgorithm.rawValue) key, not \(algorithm.rawValue)")
            }
            return ca
        }
        // The key and the root are made before the write lock is taken (an RSA key takes a
        // while); if another process made a CA meanwhile, theirs stands and these go.
        let algorithm = algorithm ?? .ecP256
        let made = try makeRoot(algorithm, account: db.account, region: db.region, at: now)
        return try db.transaction {
            if let ca = try existing(db) { return ca }  // made meanwhile by another process
            try writeKey(try made.privateKey.serializeAsPEM().pemString, to: try keyPath(db))
            try CertificateStore(c: db.connection).insertAuthority(certificateId: made.certificateId, pem: made.certificatePEM,
                                                                   keyAlgorithm: algorithm.rawValue, at: now)
            return made
        }
    }

    /// A new self-signed root of the kind `algorithm`, with its key, not yet stored.
    static func makeRoot(_ algorithm: KeyAlgorithm, account: String, region: String, at now: Int64) throws -> CertificateAuthority {
        let key = try algorithm.generate()
        let name = try DistinguishedName {
            OrganizationName("fleetdex")
            CommonName("fleetdex CA \(account) \(region)")
        }
        let start = date(now)
        let root = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: start.addingTimeInterval(-3600), notValidAfter: endOfValidity,
            issuer: name, subject: name,
            signatureAlgorithm: signatureAlgorithm(for: key),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        let pem = try root.serializeAsPEM().pemString
        let der = try derBytes(root)
        return CertificateAuthority(certificate: root, certificatePEM: pem, certificateId: sha256Hex(der), keyAlgorithm: algorithm, privateKey: key)
    }

    /// The CA if it was made already (its key read from its file).
    public static func existing(_ db: FleetDatabase) throws -> CertificateAuthority? {
        guard let (id, pem, alg) = try CertificateStore(c: db.connection).authority() else { return nil }
        let path = try keyPath(db)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FleetError(.internalFailure, "the certificate authority's private key \(path) cannot be read")
        }
        let key: Certificate.PrivateKey
        do { key = try Certificate.PrivateKey(pemEncoded: String(decoding: data, as: UTF8.self)) } catch {
            throw FleetError(.internalFailure, "the certificate authority's private key \(path) is not a private key")
        }
        let cert = try Certificate(pemEncoded: pem)
        return CertificateAuthority(certificate: cert, certificatePEM: pem, certificateId: id,
                                    keyAlgorithm: KeyAlgorithm(rawValue: alg) ?? .ecP256, privateKey: key)
    }

    /// The root certificate, PEM, if the CA was made already (a read: its key file is not
    /// opened).
    public static func existingRootPEM(_ db: FleetDatabase) throws -> String? {
        try CertificateStore(c: db.connection).authority()?.pem
    }

    /// GET /_fleetdex/root-ca.pem and `fleetdex get-root-ca`: the root certificate, PEM.
    public static func rootPEM(_ db: FleetDatabase, algorithm: KeyAlgorithm? = nil, at now: Int64) throws -> String {
        try load(db, algorithm: algorithm, at: now).certificatePEM
    }

    /// The MQTT endpoint's server certificate and key, signed by the CA of `db` (made if need be).
    public static func serverCertificate(_ db: FleetDatabase, dnsNames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1"],
                                         at now: Int64) throws -> (certificatePEM: String, privateKeyPEM: String) {
        try load(db, at: now).issueServerCertificate(dnsNames: dnsNames, ipAddresses: ipAddresses, at: now)
    }

    // MARK: issuing

    /// A device certificate for `publicKey`, valid from `now` to the end of 2049 (as AWS's own).
    func issueDevice(publicKey: Certificate.PublicKey, subject: DistinguishedName, at now: Int64) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: Self.date(now), notValidAfter: Self.endOfValidity,
            issuer: certificate.subject, subject: subject,
            signatureAlgorithm: Self.signatureAlgorithm(for: privateKey),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: Self.isRSA(publicKey)))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            },
            issuerPrivateKey: privateKey)
    }

    /// The MQTT endpoint's TLS certificate: a new key (the CA's kind) and a certificate for
    /// `dnsNames` and `ipAddresses`, valid for 825 days from `now`. The key is the caller's to keep.
    public func issueServerCertificate(dnsNames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1"],
                                       at now: Int64) throws -> (certificatePEM: String, privateKeyPEM: String) {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for ip in ipAddresses {
            guard let bytes = Self.ipBytes(ip) else { throw FleetError.invalid("'\(ip)' is not an IPv4 or IPv6 address") }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        guard !names.isEmpty else { throw FleetError.invalid("a server certificate needs a DNS name or an IP address") }
        let key = try keyAlgorithm.generate()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: Self.date(now).addingTimeInterval(-3600), notValidAfter: Self.date(now).addingTimeInterval(825 * 86400),
            issuer: certificate.subject,
            subject: try DistinguishedName { OrganizationName("fleetdex"); CommonName(dnsNames.first ?? ipAddresses[0]) },
            signatureAlgorithm: Self.signatureAlgorithm(for: privateKey),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: Self.isRSA(key.publicKey)))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            },
            issuerPrivateKey: privateKey)
        return (try cert.serializeAsPEM().pemString, try key.serializeAsPEM().pemString)
    }

    var authorityKeyIdentifier: ArraySlice<UInt8> {
        (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }

    // MARK: helpers

    /// 2049-12-31T23:59:59Z, the end of AWS IoT's device certificates.
    static let endOfValidity = Date(timeIntervalSince1970: 2_524_607_999)

    /// keyEncipherment is for RSA keys (RSA key transport); EC keys only sign.
    static func isRSA(_ key: Certificate.PublicKey) -> Bool { _RSA.Signing.PublicKey(key) != nil }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        key.supportedSignatureAlgorithms.contains(.ecdsaWithSHA256) ? .ecdsaWithSHA256 : .sha256WithRSAEncryption
    }

    static func keyPath(_ db: FleetDatabase) throws -> String {
        if db.connection.isPostgres {
            // A server database has no folder beside it: the key lives under $FLEETDEX_HOME
            // (default ~/.fleetdex), named after the URL without its password.
            let env = ProcessInfo.processInfo.environment
            let home = env["FLEETDEX_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.fleetdex")
            if mkdir(home, 0o700) != 0 && errno != EEXIST {
                throw FleetError(.internalFailure, "cannot make \(home): \(String(cString: strerror(errno)))")
            }
            let name = String(db.connection.location.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            return keyPath(forDatabase: home + "/" + name)
        }
        let path = db.connection.location
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file::memory:") else {
            throw FleetError.invalid("an in-memory database has no place beside it for its certificate authority's key")
        }
        return keyPath(forDatabase: path)
    }

    /// Writes the key owner-only: the folder 0700, the file 0600 from its creation on.
    static func writeKey(_ pem: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw FleetError(.internalFailure, "cannot make \(dir): \(String(cString: strerror(errno)))")
        }
        chmod(dir, 0o700)
        try writeOwnerOnly(pem, to: path)
    }

    /// Writes `text` to `path` with mode 0600 (set before any byte is written).
    public static func writeOwnerOnly(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FleetError(.internalFailure, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw FleetError(.internalFailure, "cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// The DER of a certificate.
func derBytes(_ cert: Certificate) throws -> [UInt8] {
    var s = DER.Serializer()
    try s.serialize(cert)
    return s.serializedBytes
}

/// Lowercase hex SHA-256: certificate ids.
public func sha256Hex(_ bytes: [UInt8]) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in SHA256.hash(data: bytes) {
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
