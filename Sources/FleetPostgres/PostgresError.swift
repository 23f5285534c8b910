// FleetPostgres: an error from libpq or the server, with the server's SQLSTATE and the
// position (1-based character offset into the statement) when it names one.

/// What PostgreSQL said went wrong.
public struct PostgresError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE (`23505` unique violation, `40001` serialization failure,
    /// `42601` syntax error, ...); `08006` when the connection itself failed.
    public var sqlState: String
    public var message: String
    public var detail: String?
    public var hint: String?
    /// 1-based character position in the statement, for syntax errors.
    public var position: Int?
    public var sql: String?

    public init(sqlState: String, message: String, detail: String? = nil, hint: String? = nil,
                position: Int? = nil, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.sql = sql
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// A transaction to run again: serialization failure or deadlock.
    public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }

    public var description: String {
        var s = "\(message) (SQLSTATE \(sqlState))"
        if let detail { s += ": \(detail)" }
        return s
    }
}
