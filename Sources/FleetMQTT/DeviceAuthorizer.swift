// FleetMQTT: the database side of admitting a device: the presented certificate looked up by
// its SHA-256 (registered, issued by this CA or registered without one), and the grant of a
// connection (policies and policy context). Blocking: called on the endpoint's thread pool.
import FleetDevices
import FleetIndex
import NIOConcurrencyHelpers

public struct DeviceAuthorizer: Sendable {
    let database: any DatabaseAccess
    let documents = PolicyDocumentCache()
    /// The account's ARN prefix, one string for every grant.
    private let arnPrefix = NIOLockedValueBox<String?>(nil)

    public init(database: any DatabaseAccess) { self.database = database }

    /// Why a presented certificate is refused during the TLS handshake (nil: accepted).
    public enum Refusal: Equatable, Sendable {
        case unknown
        case notActive(String)
    }

    /// The certificate's record, or why the handshake must fail: not registered (which also
    /// refuses any certificate of another CA that was not registered), or not ACTIVE.
    public func admit(der: [UInt8]) -> Result<PresentedCertificate, RefusalError> {
        do {
            guard let found = try database.with({ try Certificates($0).lookup(presentedDER: der) }) else {
                return .failure(RefusalError(refusal: .unknown))
            }
            guard found.isActive else { return .failure(RefusalError(refusal: .notActive(found.status))) }
            return .success(found)
        } catch {
            return .failure(RefusalError(refusal: .unknown))
        }
    }

    public struct RefusalError: Error, Sendable { public let refusal: Refusal }

    /// The grant of a connection by `clientId` with the certificate `der`, its record read
    /// again (the status may have changed since the handshake): nil when it is no longer
    /// registered and ACTIVE.
    public func grant(der: [UInt8], clientId: String, sourceIp: String?) throws -> ConnectionGrant? {
        try database.with { db in
            guard let certificate = try Certificates(db).lookup(presentedDER: der), certificate.isActive else { return nil }
            let policies = Policies(db)
            let documents = try policies.effectivePolicies(principal: certificate.certificateArn, parse: self.documents.document)
            let prefix = db.iotARN("")
            return ConnectionGrant(
                certificateId: certificate.certificateId, clientId: clientId, policies: documents,
                context: try policies.connectionContext(principal: certificate.certificateArn, clientId: clientId, sourceIp: sourceIp,
                                                        certificateVariables: documents.contains { $0.referencesCertificate }),
                arnPrefix: arnPrefix.withLockedValue { p in
                    if p != prefix { p = prefix }
                    return p!
                },
                storedVersion: try Presence(db).lastVersion(clientId: clientId) ?? 0)
        }
    }
}
