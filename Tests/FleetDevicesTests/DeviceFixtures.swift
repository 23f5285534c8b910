// Test fixtures: a fresh database in its own temporary folder per test (its CA key beside
// it), certificates and CSRs made in the test, and error checks.
import Crypto
import FleetDevices
import FleetIndex
import Foundation
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// This test process's databases live under one directory, removed when it exits.
let deviceTestRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-device-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-device-tests-\(getpid())").path) }
    return root
}()

enum DeviceFixtures {
    static func database() throws -> FleetDatabase {
        let dir = deviceTestRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try FleetDatabase(path: dir.appendingPathComponent("fleet.sqlite").path, region: "us-east-1", account: "123456789012")
    }

    static let t0 = Timestamp.parse("2026-11-28T10:00:00Z")!
    static let t1 = Timestamp.parse("2026-11-28T11:00:00Z")!

    /// The exception a throwing call ends with (nil when it does not throw).
    static func exception(_ body: () throws -> Any) -> String? {
        do { _ = try body(); return nil } catch let e as FleetError { return e.exception } catch { return "\(error)" }
    }

    /// A CSR for a new key (P-256 unless given).
    static func csr(commonName: String = "device-1", key: Certificate.PrivateKey = Certificate.PrivateKey(P256.Signing.PrivateKey())) throws -> String {
        let req = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName(commonName) },
                                                privateKey: key, attributes: CertificateSigningRequest.Attributes())
        return try req.serializeAsPEM().pemString
    }

    /// A self-signed certificate made outside fleetdex.
    static func selfSigned(commonName: String = "outside", key: Certificate.PrivateKey = Certificate.PrivateKey(P256.Signing.PrivateKey())) throws -> (pem: String, der: [UInt8]) {
        let name = try DistinguishedName { CommonName(commonName) }
        let cert = try Certificate(version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                                   notValidBefore: Date(timeIntervalSince1970: 1_700_000_000), notValidAfter: Date(timeIntervalSince1970: 2_000_000_000),
                                   issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                                   extensions: Certificate.Extensions(), issuerPrivateKey: key)
        var s = DER.Serializer()
        try s.serialize(cert)
        return (try cert.serializeAsPEM().pemString, s.serializedBytes)
    }

    static func der(_ pem: String) throws -> [UInt8] {
        try PEMDocument(pemString: pem).derBytes
    }

    /// Whether `leafPEM` chains to `rootPEM` under RFC 5280 at `time`.
    static func verifies(_ leafPEM: String, root rootPEM: String, at time: Date = Date(timeIntervalSince1970: 1_796_000_000)) async throws -> Bool {
        let leaf = try Certificate(pemEncoded: leafPEM)
        let root = try Certificate(pemEncoded: rootPEM)
        var verifier = Verifier(rootCertificates: CertificateStore([root])) { RFC5280Policy(validationTime: time) }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        if case .validCertificate = result { return true }
        return false
    }
}
