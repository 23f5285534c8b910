// FleetServer: the errors only the wire has (authentication, framing, unknown operations),
// with the names and statuses the AWS services send for them.
import FleetIndex

extension FleetError.Code {
    /// rest-json and JSON 1.0: no operation at this method and path, or this target.
    static let unknownOperation = FleetError.Code("UnknownOperationException", 400, isBadInput: true)
    /// A body the protocol cannot read.
    static let serialization = FleetError.Code("SerializationException", 400, isBadInput: true)
    /// The query protocol: an `Action` the service does not have.
    static let invalidAction = FleetError.Code("InvalidAction", 400, isBadInput: true)
    static let requestTooLarge = FleetError.Code("RequestEntityTooLargeException", 413, isBadInput: true)
}

/// How each protocol names the SigV4 failures (botocore raises them as ClientError codes).
enum AuthErrors {
    static func code(_ f: SigV4Failure, protocol p: String) -> FleetError {
        let query = p == "query"
        switch f {
        case .missing:
            return FleetError(FleetError.Code(query ? "MissingAuthenticationToken" : "MissingAuthenticationTokenException", 403),
                              "Missing Authentication Token: the request is not signed (SigV4)")
        case .unknownKey(let k):
            return FleetError(FleetError.Code(query ? "InvalidClientTokenId" : "UnrecognizedClientException", 403),
                              "The security token included in the request is invalid: unknown access key id \(k)")
        case .badScope(let m), .malformed(let m):
            return FleetError(FleetError.Code(query ? "SignatureDoesNotMatch" : "InvalidSignatureException", 403), m)
        case .expired(let m):
            return FleetError(FleetError.Code(query ? "SignatureDoesNotMatch" : "InvalidSignatureException", 403), m)
        case .mismatch:
            return FleetError(FleetError.Code(query ? "SignatureDoesNotMatch" : "InvalidSignatureException", 403),
                              "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
    }
}
