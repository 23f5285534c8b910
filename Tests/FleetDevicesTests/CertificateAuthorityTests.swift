// The database's CA: made once, its key owner-only beside the database and never printed,
// the server certificate for the MQTT endpoint, RSA on request.
import FleetDevices
import FleetIndex
import FleetSQLite
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func madeOnFirstUseWithAnOwnerOnlyKey() throws {
        let db = try DeviceFixtures.database()
        #expect(try CertificateAuthority.existing(db) == nil)
        let pem = try CertificateAuthority.rootPEM(db, at: DeviceFixtures.t0)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(!pem.contains("PRIVATE KEY"))
        let keyPath = CertificateAuthority.keyPath(forDatabase: db.connection.location)
        #expect(keyPath == db.connection.location + ".ca/ca-key.pem")
        #expect(try mode(keyPath) == 0o600)
        #expect(try mode((keyPath as NSString).deletingLastPathComponent) == 0o700)
        let key = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(key.contains("PRIVATE KEY"))
        // The same CA again, later, and from a second connection.
        #expect(try CertificateAuthority.rootPEM(db, at: DeviceFixtures.t1) == pem)
        let again = try FleetDatabase(path: db.connection.location)
        let ca = try #require(try CertificateAuthority.existing(again))
        #expect(ca.certificatePEM == pem)
        #expect(ca.keyAlgorithm == .ecP256)
        #expect(ca.certificateId == sha256Hex(try DeviceFixtures.der(pem)))
        // A self-signed CA certificate.
        let cert = try Certificate(pemEncoded: pem)
        #expect(cert.issuer == cert.subject)
        #expect(try cert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
    }

    @Test func rsaOnRequestAndNoSilentChange() throws {
        let db = try DeviceFixtures.database()
        let ca = try CertificateAuthority.load(db, algorithm: .rsa2048, at: DeviceFixtures.t0)
        #expect(ca.keyAlgorithm == .rsa2048)
        #expect(try CertificateAuthority.load(db, at: DeviceFixtures.t0).certificateId == ca.certificateId)
        #expect(DeviceFixtures.exception { try CertificateAuthority.load(db, algorithm: .ecP256, at: DeviceFixtures.t0) } == "ResourceConflictException")
    }

    @Test func aMissingKeyIsAnError() throws {
        let db = try DeviceFixtures.database()
        _ = try CertificateAuthority.load(db, at: DeviceFixtures.t0)
        try FileManager.default.removeItem(atPath: CertificateAuthority.keyPath(forDatabase: db.connection.location))
        #expect(DeviceFixtures.exception { try CertificateAuthority.load(db, at: DeviceFixtures.t0) } == "InternalFailureException")
    }

    @Test func serverCertificateForTheEndpoint() async throws {
        let db = try DeviceFixtures.database()
        let ca = try CertificateAuthority.load(db, at: DeviceFixtures.t0)
        let (certPEM, keyPEM) = try ca.issueServerCertificate(at: DeviceFixtures.t0)
        #expect(keyPEM.contains("PRIVATE KEY"))
        let cert = try Certificate(pemEncoded: certPEM)
        let san = try #require(try cert.extensions.subjectAlternativeNames)
        #expect(san.contains(.dnsName("localhost")))
        #expect(san.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(try await DeviceFixtures.verifies(certPEM, root: ca.certificatePEM))
        // Other names; a bad address is refused.
        let (other, _) = try ca.issueServerCertificate(dnsNames: ["mqtt.test"], ipAddresses: ["::1"], at: DeviceFixtures.t0)
        #expect(try Certificate(pemEncoded: other).extensions.subjectAlternativeNames?.contains(.dnsName("mqtt.test")) == true)
        #expect(DeviceFixtures.exception { try ca.issueServerCertificate(ipAddresses: ["300.1.1.1"], at: DeviceFixtures.t0) } == "InvalidRequestException")
    }

    @Test func anInMemoryDatabaseHasNoPlaceForTheKey() throws {
        let db = try FleetDatabase(path: ":memory:")
        #expect(DeviceFixtures.exception { try CertificateAuthority.load(db, at: DeviceFixtures.t0) } == "InvalidRequestException")
    }

    /// No private key is kept in the database, and none but create-keys-and-certificate's
    /// response carries one.
    @Test func privateKeysStayOutOfTheDatabaseAndOtherResponses() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db), policies = Policies(db)
        let t0 = DeviceFixtures.t0
        _ = try Registry(db).createThing(name: "d", typeName: nil, attributes: nil, at: t0)
        let keys = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: .ecP256, at: t0)
        #expect(keys.compact.contains("PRIVATE KEY"))
        let id = keys["certificateId"]!.stringValue!, arn = keys["certificateArn"]!.stringValue!
        let doc = #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}"#
        let outputs: [JSONValue] = [
            try certs.createCertificateFromCsr(csr: try DeviceFixtures.csr(), setAsActive: false, at: t0),
            try certs.registerCertificateWithoutCA(pem: try DeviceFixtures.selfSigned().pem, status: nil, at: t0),
            try certs.describeCertificate(id: id),
            try certs.listCertificates(pageSize: nil, marker: nil, ascendingOrder: true),
            try certs.attachThingPrincipal(thingName: "d", principal: arn, type: nil, at: t0),
            try certs.listThingPrincipals(thingName: "d", maxResults: nil, nextToken: nil),
            try certs.listPrincipalThings(principal: arn, maxResults: nil, nextToken: nil),
            try policies.createPolicy(name: "P", document: doc, at: t0),
            try policies.attachPolicy(name: "P", target: arn, at: t0),
            try policies.getPolicy(name: "P"),
            try policies.listAttachedPolicies(target: arn, recursive: false, pageSize: nil, marker: nil),
            .string(try CertificateAuthority.rootPEM(db, at: t0)),
        ]
        for o in outputs { #expect(!o.compact.contains("PRIVATE KEY"), "\(o.compact)") }
        var stored = ""
        for table in ["certificate_authority", "certificate", "thing_principal", "policy_version", "meta"] {
            try db.connection.forEach("SELECT * FROM " + table) { s in
                for i in 0..<s.columnCount where !s.isNull(i) { stored += s.text(i) }
            }
        }
        #expect(!stored.contains("PRIVATE KEY"))
        #expect(stored.contains("BEGIN CERTIFICATE"))
    }
}
