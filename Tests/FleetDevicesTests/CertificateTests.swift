// Certificates: issued by the CA (keys or a CSR) and registered without one; ids are the
// SHA-256 of the DER; AWS's status transitions and deletion refusals; thing principals.
import Crypto
import FleetDevices
import FleetIndex
import Foundation
import Testing
import X509
import _CryptoExtras

@Suite struct CertificateTests {
    let t0 = DeviceFixtures.t0

    func make(_ certs: Certificates, active: Bool = true) throws -> (id: String, arn: String, pem: String) {
        let r = try certs.createKeysAndCertificate(setAsActive: active, keyAlgorithm: .ecP256, at: t0)
        return (r["certificateId"]!.stringValue!, r["certificateArn"]!.stringValue!, r["certificatePem"]!.stringValue!)
    }

    @Test func createKeysAndCertificateIsRSA2048AsAWSAndVerifies() async throws {
        let db = try DeviceFixtures.database()
        let r = try Certificates(db).createKeysAndCertificate(setAsActive: true, at: t0)
        let pem = try #require(r["certificatePem"]?.stringValue)
        let id = try #require(r["certificateId"]?.stringValue)
        #expect(id == sha256Hex(try DeviceFixtures.der(pem)))
        #expect(id.count == 64 && id == id.lowercased())
        #expect(r["certificateArn"]?.stringValue == "arn:aws:iot:us-east-1:123456789012:cert/\(id)")
        let priv = try #require(r["keyPair"]?["PrivateKey"]?.stringValue)
        let pub = try #require(r["keyPair"]?["PublicKey"]?.stringValue)
        #expect(priv.contains("PRIVATE KEY") && pub.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let cert = try Certificate(pemEncoded: pem)
        let rsa = try #require(_RSA.Signing.PublicKey(cert.publicKey))
        #expect(rsa.keySizeInBits == 2048)
        // The key pair belongs to the certificate.
        #expect(try Certificate.PrivateKey(pemEncoded: priv).publicKey == cert.publicKey)
        let root = try CertificateAuthority.rootPEM(db, at: t0)
        #expect(try await DeviceFixtures.verifies(pem, root: root))
        #expect(try Certificates(db).describeCertificate(id: id)["certificateDescription"]?["status"]?.stringValue == "ACTIVE")
    }

    @Test func certificateFromACSRVerifiesAgainstTheRoot() async throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db)
        let csr = try DeviceFixtures.csr(commonName: "pump-17")
        let r = try certs.createCertificateFromCsr(csr: csr, setAsActive: false, at: t0)
        let pem = try #require(r["certificatePem"]?.stringValue)
        #expect(r["keyPair"] == nil)
        #expect(r["certificateId"]?.stringValue == sha256Hex(try DeviceFixtures.der(pem)))
        let cert = try Certificate(pemEncoded: pem)
        #expect(cert.subject == (try DistinguishedName { CommonName("pump-17") }))
        #expect(cert.publicKey == (try CertificateSigningRequest(pemEncoded: csr)).publicKey)
        #expect(try await DeviceFixtures.verifies(pem, root: try CertificateAuthority.rootPEM(db, at: t0)))
        // Not by another CA.
        let other = try DeviceFixtures.database()
        #expect(try await !DeviceFixtures.verifies(pem, root: try CertificateAuthority.rootPEM(other, at: t0)))
        // The same CSR again: a distinct certificate.
        let again = try certs.createCertificateFromCsr(csr: csr, setAsActive: true, at: t0)
        #expect(again["certificateId"] != r["certificateId"])
        let desc = try certs.describeCertificate(id: r["certificateId"]!.stringValue!)["certificateDescription"]
        #expect(desc?["status"]?.stringValue == "INACTIVE")
        #expect(desc?["caCertificateId"]?.stringValue == (try CertificateAuthority.existing(db))?.certificateId)
    }

    @Test func badCSRs() throws {
        let certs = Certificates(try DeviceFixtures.database())
        #expect(DeviceFixtures.exception { try certs.createCertificateFromCsr(csr: "not a csr", setAsActive: false, at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.createCertificateFromCsr(csr: "", setAsActive: false, at: t0) } == "InvalidRequestException")
        let small = try Certificate.PrivateKey(_RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)))
        #expect(DeviceFixtures.exception { try certs.createCertificateFromCsr(csr: try DeviceFixtures.csr(key: small), setAsActive: false, at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.createCertificateFromCsr(csr: try DeviceFixtures.csr(key: Certificate.PrivateKey(Curve25519.Signing.PrivateKey())), setAsActive: false, at: t0) } == "InvalidRequestException")
        // A P-384 key is fine.
        #expect(DeviceFixtures.exception { try certs.createCertificateFromCsr(csr: try DeviceFixtures.csr(key: Certificate.PrivateKey(P384.Signing.PrivateKey())), setAsActive: false, at: t0) } == nil)
    }

    @Test func registerWithoutCA() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db)
        let outside = try DeviceFixtures.selfSigned()
        let r = try certs.registerCertificateWithoutCA(pem: outside.pem, status: nil, at: t0)
        let id = try #require(r["certificateId"]?.stringValue)
        #expect(id == sha256Hex(outside.der))
        #expect(r.objectValue?.map(\.key) == ["certificateArn", "certificateId"])
        let desc = try certs.describeCertificate(id: id)["certificateDescription"]
        #expect(desc?["status"]?.stringValue == "INACTIVE")
        #expect(desc?["certificateMode"]?.stringValue == "SNI_ONLY")
        #expect(desc?["caCertificateId"] == nil)
        #expect(desc?["validity"]?["notAfter"]?.stringValue == "2033-05-18T03:33:20+00:00")
        #expect(DeviceFixtures.exception { try certs.registerCertificateWithoutCA(pem: outside.pem, status: "ACTIVE", at: t0) } == "ResourceAlreadyExistsException")
        #expect(DeviceFixtures.exception { try certs.registerCertificateWithoutCA(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", status: nil, at: t0) } == "CertificateValidationException")
        #expect(DeviceFixtures.exception { try certs.registerCertificateWithoutCA(pem: try DeviceFixtures.selfSigned().pem, status: "REVOKED", at: t0) } == "InvalidRequestException")
        let active = try certs.registerCertificateWithoutCA(pem: try DeviceFixtures.selfSigned().pem, status: "ACTIVE", at: t0)
        #expect(try certs.describeCertificate(id: active["certificateId"]!.stringValue!)["certificateDescription"]?["status"]?.stringValue == "ACTIVE")
        // A certificate the CA issued, registered again elsewhere... here it exists already.
        let issued = try make(certs)
        #expect(DeviceFixtures.exception { try certs.registerCertificateWithoutCA(pem: issued.pem, status: nil, at: t0) } == "ResourceAlreadyExistsException")
    }

    @Test func describeErrors() throws {
        let certs = Certificates(try DeviceFixtures.database())
        #expect(DeviceFixtures.exception { try certs.describeCertificate(id: String(repeating: "a", count: 64)) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try certs.describeCertificate(id: "abc") } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.describeCertificate(id: String(repeating: "g", count: 64)) } == "InvalidRequestException")
        let c = try make(certs)
        #expect(try certs.describeCertificate(id: c.id.uppercased())["certificateDescription"]?["certificateId"]?.stringValue == c.id)
        #expect(try certs.describeCertificate(id: "0x" + c.id)["certificateDescription"]?["certificateId"]?.stringValue == c.id)
    }

    @Test func listingPagesNewestFirst() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db)
        var ids: [String] = []
        for i in 0..<5 {
            let r = try certs.createKeysAndCertificate(setAsActive: false, keyAlgorithm: .ecP256, at: t0 + Int64(i) * 1000)
            ids.append(r["certificateId"]!.stringValue!)
        }
        func all(_ asc: Bool) throws -> [String] {
            var out: [String] = [], marker: String?
            repeat {
                let page = try certs.listCertificates(pageSize: 2, marker: marker, ascendingOrder: asc)
                out += page["certificates"]!.arrayValue!.map { $0["certificateId"]!.stringValue! }
                marker = page["nextMarker"]?.stringValue
                if let marker { #expect(marker.allSatisfy { $0.isLetter || $0.isNumber || "+/=".contains($0) }) }
            } while marker != nil
            return out
        }
        #expect(try all(false) == ids.reversed())
        #expect(try all(true) == ids)
        #expect(try certs.listCertificates(pageSize: nil, marker: nil, ascendingOrder: false)["certificates"]?.arrayValue?.count == 5)
        #expect(DeviceFixtures.exception { try certs.listCertificates(pageSize: 0, marker: nil, ascendingOrder: false) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.listCertificates(pageSize: 251, marker: nil, ascendingOrder: false) } == "InvalidRequestException")
        let m = try certs.listCertificates(pageSize: 2, marker: nil, ascendingOrder: false)["nextMarker"]!.stringValue!
        #expect(DeviceFixtures.exception { try certs.listCertificates(pageSize: 2, marker: m, ascendingOrder: true) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.listCertificates(pageSize: 2, marker: "AAAA", ascendingOrder: false) } == "InvalidRequestException")
    }

    /// AWS's transitions: among ACTIVE/INACTIVE freely, into REVOKED, never out of it.
    @Test(arguments: [
        ("ACTIVE", "INACTIVE", nil), ("INACTIVE", "ACTIVE", nil), ("ACTIVE", "REVOKED", nil), ("INACTIVE", "REVOKED", nil),
        ("ACTIVE", "ACTIVE", nil), ("REVOKED", "REVOKED", nil),
        ("REVOKED", "ACTIVE", "CertificateStateException"), ("REVOKED", "INACTIVE", "CertificateStateException"),
        ("ACTIVE", "PENDING_TRANSFER", "InvalidRequestException"), ("ACTIVE", "PENDING_ACTIVATION", "InvalidRequestException"),
        ("INACTIVE", "REGISTER_INACTIVE", "InvalidRequestException"), ("ACTIVE", "active", "InvalidRequestException"),
    ] as [(String, String, String?)])
    func statusTransitions(from: String, to: String, error: String?) throws {
        let certs = Certificates(try DeviceFixtures.database())
        let c = try make(certs, active: from == "ACTIVE")
        if from == "REVOKED" { _ = try certs.updateCertificate(id: c.id, newStatus: "REVOKED", at: t0) }
        #expect(DeviceFixtures.exception { try certs.updateCertificate(id: c.id, newStatus: to, at: DeviceFixtures.t1) } == error)
        let desc = try certs.describeCertificate(id: c.id)["certificateDescription"]
        #expect(desc?["status"]?.stringValue == (error == nil ? to : from))
        if error == nil && from != to { #expect(desc?["lastModifiedDate"]?.stringValue == "2026-11-28T11:00:00+00:00") }
    }

    @Test func updateUnknown() throws {
        let certs = Certificates(try DeviceFixtures.database())
        #expect(DeviceFixtures.exception { try certs.updateCertificate(id: String(repeating: "0", count: 64), newStatus: "ACTIVE", at: t0) } == "ResourceNotFoundException")
    }

    @Test func deletionRefusals() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db), policies = Policies(db)
        _ = try Registry(db).createThing(name: "pump-17", typeName: nil, attributes: nil, at: t0)
        let c = try make(certs)
        _ = try policies.createPolicy(name: "P", document: #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}"#, at: t0)
        _ = try policies.attachPolicy(name: "P", target: c.arn, at: t0)
        _ = try certs.attachThingPrincipal(thingName: "pump-17", principal: c.arn, type: nil, at: t0)
        // ACTIVE first.
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: c.id, forceDelete: true) } == "CertificateStateException")
        _ = try certs.updateCertificate(id: c.id, newStatus: "INACTIVE", at: t0)
        // A thing attached: even forced.
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: c.id, forceDelete: true) } == "DeleteConflictException")
        // The thing cannot be deleted while the principal is attached (AWS refuses too).
        #expect(DeviceFixtures.exception { try Registry(db).deleteThing(name: "pump-17", expectedVersion: nil, at: t0) } == "InvalidRequestException")
        _ = try certs.detachThingPrincipal(thingName: "pump-17", principal: c.arn)
        // A policy attached: only forced.
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: c.id, forceDelete: false) } == "DeleteConflictException")
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: c.id, forceDelete: true) } == nil)
        #expect(try policies.listTargetsForPolicy(name: "P", pageSize: nil, marker: nil)["targets"]?.arrayValue == [])
        #expect(DeviceFixtures.exception { try certs.describeCertificate(id: c.id) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: c.id, forceDelete: false) } == "ResourceNotFoundException")
        // Now the thing goes.
        #expect(DeviceFixtures.exception { try Registry(db).deleteThing(name: "pump-17", expectedVersion: nil, at: t0) } == nil)
        // Revoked and unattached: deletable without force.
        let d = try make(certs)
        _ = try certs.updateCertificate(id: d.id, newStatus: "REVOKED", at: t0)
        #expect(DeviceFixtures.exception { try certs.deleteCertificate(id: d.id, forceDelete: false) } == nil)
    }

    @Test func thingPrincipals() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db)
        for n in ["a", "b", "c"] { _ = try Registry(db).createThing(name: n, typeName: nil, attributes: nil, at: t0) }
        let c1 = try make(certs), c2 = try make(certs)
        _ = try certs.attachThingPrincipal(thingName: "a", principal: c1.arn, type: nil, at: t0)
        _ = try certs.attachThingPrincipal(thingName: "a", principal: c1.arn, type: nil, at: t0)  // again: no error
        _ = try certs.attachThingPrincipal(thingName: "b", principal: c1.arn, type: nil, at: t0)
        _ = try certs.attachThingPrincipal(thingName: "a", principal: c2.arn, type: nil, at: t0)
        _ = try certs.attachThingPrincipal(thingName: "a", principal: "us-east-1:0f0c7c3e-0000-4000-8000-000000000001", type: nil, at: t0)
        #expect(try certs.listThingPrincipals(thingName: "a", maxResults: nil, nextToken: nil)["principals"]?.arrayValue?.count == 3)
        #expect(try certs.listPrincipalThings(principal: c1.arn, maxResults: nil, nextToken: nil)["things"]?.arrayValue == [.string("a"), .string("b")])
        // Paging.
        let p1 = try certs.listThingPrincipals(thingName: "a", maxResults: 2, nextToken: nil)
        #expect(p1["principals"]?.arrayValue?.count == 2)
        let p2 = try certs.listThingPrincipals(thingName: "a", maxResults: 2, nextToken: p1["nextToken"]?.stringValue)
        #expect(p2["principals"]?.arrayValue?.count == 1 && p2["nextToken"] == nil)
        let t1 = try certs.listPrincipalThings(principal: c1.arn, maxResults: 1, nextToken: nil)
        #expect(try certs.listPrincipalThings(principal: c1.arn, maxResults: 1, nextToken: t1["nextToken"]?.stringValue)["things"]?.arrayValue == [.string("b")])
        // Exclusive: refused while attached elsewhere; then blocks other attachments.
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "c", principal: c1.arn, type: "EXCLUSIVE_THING", at: t0) } == "InvalidRequestException")
        let c3 = try make(certs)
        _ = try certs.attachThingPrincipal(thingName: "c", principal: c3.arn, type: "EXCLUSIVE_THING", at: t0)
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "a", principal: c3.arn, type: nil, at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "a", principal: c3.arn, type: "SHARED", at: t0) } == "InvalidRequestException")
        // Not found, malformed.
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "zz", principal: c1.arn, type: nil, at: t0) } == "ResourceNotFoundException")
        let ghost = "arn:aws:iot:us-east-1:123456789012:cert/" + String(repeating: "e", count: 64)
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "a", principal: ghost, type: nil, at: t0) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "a", principal: "arn:aws:iot:eu-west-1:123456789012:cert/\(c1.id)", type: nil, at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.attachThingPrincipal(thingName: "a", principal: "nonsense", type: nil, at: t0) } == "InvalidRequestException")
        #expect(DeviceFixtures.exception { try certs.listThingPrincipals(thingName: "zz", maxResults: nil, nextToken: nil) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try certs.listPrincipalThings(principal: ghost, maxResults: nil, nextToken: nil) } == "ResourceNotFoundException")
        #expect(DeviceFixtures.exception { try certs.detachThingPrincipal(thingName: "zz", principal: c1.arn) } == "ResourceNotFoundException")
        // Detach.
        _ = try certs.detachThingPrincipal(thingName: "b", principal: c1.arn)
        _ = try certs.detachThingPrincipal(thingName: "b", principal: c1.arn)  // not attached: no error
        #expect(try certs.listPrincipalThings(principal: c1.arn, maxResults: nil, nextToken: nil)["things"]?.arrayValue == [.string("a")])
    }

    @Test func thePresentedCertificate() throws {
        let db = try DeviceFixtures.database()
        let certs = Certificates(db)
        _ = try Registry(db).createThing(name: "pump-17", typeName: nil, attributes: nil, at: t0)
        let c = try make(certs)
        _ = try certs.attachThingPrincipal(thingName: "pump-17", principal: c.arn, type: "EXCLUSIVE_THING", at: t0)
        let found = try #require(try certs.lookup(presentedDER: try DeviceFixtures.der(c.pem)))
        #expect(found.certificateId == c.id && found.certificateArn == c.arn && found.isActive)
        #expect(found.thingNames == ["pump-17"] && found.exclusiveThing == "pump-17")
        _ = try certs.updateCertificate(id: c.id, newStatus: "REVOKED", at: t0)
        #expect(try certs.lookup(presentedDER: try DeviceFixtures.der(c.pem))?.status == "REVOKED")
        #expect(try certs.lookup(presentedDER: try DeviceFixtures.selfSigned().der) == nil)
    }
}
