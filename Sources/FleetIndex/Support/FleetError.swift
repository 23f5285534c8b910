// FleetIndex: the engine's error. It carries what AWS answers with (the exception name and
// the HTTP status of the service's model) and speaks of request members (`maxResults`), as
// AWS's messages do. Front ends decide the rest: the CLI maps codes to exit codes and member
// names to its flags, the server writes the status and the error body of each protocol.

/// An operation failure.
public struct FleetError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An AWS error: the exception name, the HTTP status the service's model gives it, and
    /// whether it means the request itself was bad (a malformed value, JSON or query: sending
    /// it again cannot succeed) rather than that the operation failed on the current state.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let exception: String
        public let httpStatus: Int
        public let isBadInput: Bool

        public init(_ exception: String, _ httpStatus: Int, isBadInput: Bool = false) {
            self.exception = exception
            self.httpStatus = httpStatus
            self.isBadInput = isBadInput
        }

        public var description: String { exception }

        // iot (rest-json); the statuses are the model's `httpStatusCode`s.
        public static let resourceNotFound = Code("ResourceNotFoundException", 404)
        public static let resourceAlreadyExists = Code("ResourceAlreadyExistsException", 409)
        public static let invalidRequest = Code("InvalidRequestException", 400, isBadInput: true)
        public static let invalidQuery = Code("InvalidQueryException", 400, isBadInput: true)
        public static let invalidAggregation = Code("InvalidAggregationException", 400, isBadInput: true)
        public static let versionConflict = Code("VersionConflictException", 409)
        public static let limitExceeded = Code("LimitExceededException", 410)
        public static let resourceConflict = Code("ResourceConflictException", 409)
        public static let internalFailure = Code("InternalFailureException", 500)
        // sns (query protocol)
        public static let invalidParameter = Code("InvalidParameterException", 400, isBadInput: true)
        public static let notFound = Code("NotFoundException", 404)
        // sqs (json 1.0 and query; AWS answers every client error with 400)
        public static let invalidAttributeName = Code("InvalidAttributeName", 400, isBadInput: true)
        public static let invalidAttributeValue = Code("InvalidAttributeValue", 400, isBadInput: true)
        public static let invalidParameterValue = Code("InvalidParameterValue", 400, isBadInput: true)
        public static let receiptHandleIsInvalid = Code("ReceiptHandleIsInvalid", 400)
        public static let nonExistentQueue = Code("AWS.SimpleQueueService.NonExistentQueue", 400)
    }

    public var code: Code
    public var message: String
    /// The request member the message is about, when it starts with its name (`maxResults
    /// must be …`): the CLI writes its flag there instead.
    public var member: String?
    /// Extra lines shown under the message (the query with a caret).
    public var detail: String?

    public init(_ code: Code, _ message: String, member: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.member = member
        self.detail = detail
    }

    public var exception: String { code.exception }
    public var httpStatus: Int { code.httpStatus }
    public var description: String { "\(exception): \(message)" }

    public static func notFound(_ m: String) -> FleetError { FleetError(.resourceNotFound, m) }
    public static func alreadyExists(_ m: String) -> FleetError { FleetError(.resourceAlreadyExists, m) }
    public static func invalid(_ m: String) -> FleetError { FleetError(.invalidRequest, m) }
    /// A bad value of one request member; `message` follows the member's name.
    public static func invalid(member: String, _ m: String) -> FleetError {
        FleetError(.invalidRequest, "\(member) \(m)", member: member)
    }
    public static func versionConflict(_ m: String) -> FleetError { FleetError(.versionConflict, m) }
    public static func limitExceeded(_ m: String) -> FleetError { FleetError(.limitExceeded, m) }
    public static func conflict(_ m: String) -> FleetError { FleetError(.resourceConflict, m) }
    public static func badJSON(_ what: String, _ e: JSONError) -> FleetError {
        FleetError(.invalidRequest, "\(what) is not valid JSON: \(e)")
    }
    /// A request member that must be JSON and is not.
    public static func badJSON(member: String, _ e: JSONError) -> FleetError {
        FleetError(.invalidRequest, "\(member) is not valid JSON: \(e)", member: member)
    }
}
