// FleetIndex: the domain error, named as AWS names its exceptions, with the exit code the
// command line uses for it.

/// An operation failure, carrying the AWS exception name.
public struct FleetError: Error, Equatable, CustomStringConvertible {
    public var exception: String
    public var message: String
    /// 1 operation failed, 64 usage, 65 invalid input data.
    public var exitCode: Int32
    /// Extra lines shown under the message (the query with a caret).
    public var detail: String?

    public init(_ exception: String, _ message: String, exitCode: Int32 = 1, detail: String? = nil) {
        self.exception = exception
        self.message = message
        self.exitCode = exitCode
        self.detail = detail
    }

    public var description: String { "\(exception): \(message)" }

    public static func notFound(_ m: String) -> FleetError { FleetError("ResourceNotFoundException", m) }
    public static func alreadyExists(_ m: String) -> FleetError { FleetError("ResourceAlreadyExistsException", m) }
    public static func invalid(_ m: String) -> FleetError { FleetError("InvalidRequestException", m, exitCode: 65) }
    public static func versionConflict(_ m: String) -> FleetError { FleetError("VersionConflictException", m) }
    public static func limitExceeded(_ m: String) -> FleetError { FleetError("LimitExceededException", m) }
    public static func conflict(_ m: String) -> FleetError { FleetError("ResourceConflictException", m) }
    public static func badJSON(_ what: String, _ e: JSONError) -> FleetError {
        FleetError("InvalidRequestException", "\(what) is not valid JSON: \(e)", exitCode: 65)
    }
}
