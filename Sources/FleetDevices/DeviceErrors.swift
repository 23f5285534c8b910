// FleetDevices: the iot exceptions of the certificate and policy operations (statuses as
// the botocore model gives them), beside FleetIndex's common ones.
import FleetIndex

extension FleetError.Code {
    public static let certificateState = FleetError.Code("CertificateStateException", 406)
    public static let certificateValidation = FleetError.Code("CertificateValidationException", 400, isBadInput: true)
    public static let deleteConflict = FleetError.Code("DeleteConflictException", 409)
    public static let malformedPolicy = FleetError.Code("MalformedPolicyException", 400, isBadInput: true)
    public static let versionsLimitExceeded = FleetError.Code("VersionsLimitExceededException", 409)
}

extension FleetError {
    static func certificateState(_ m: String) -> FleetError { FleetError(.certificateState, m) }
    static func deleteConflict(_ m: String) -> FleetError { FleetError(.deleteConflict, m) }
    static func malformedPolicy(_ m: String) -> FleetError { FleetError(.malformedPolicy, m) }
}

/// A listing's `marker` / `nextMarker`: a PageToken in the standard base64 alphabet, as the
/// model's Marker pattern (`[A-Za-z0-9+/]+={0,2}`) wants.
enum Marker {
    static func encode(_ position: String, scope: String) -> String {
        String(PageToken.encode(position, scope: scope).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
    }

    static func position(_ marker: String?, scope: String) throws(FleetError) -> String? {
        guard let marker else { return nil }
        let token = String(marker.filter { $0 != "=" }.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        do { return try PageToken.decode(token, scope: scope) } catch {
            throw FleetError.invalid(member: "marker", "is not valid for this request")
        }
    }

    /// `pageSize` within 1...250 (default 25, as AWS pages certificates and policies).
    static func pageSize(_ v: Int?) throws(FleetError) -> Int {
        guard let v else { return 25 }
        guard (1...250).contains(v) else { throw .invalid(member: "pageSize", "must be between 1 and 250, got \(v)") }
        return v
    }
}
