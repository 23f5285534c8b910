// FleetSQLite: the one error type of the SQLite layer.

/// An error reported by SQLite, with the statement that caused it and SQLite's byte offset
/// into that statement where it knows one (`sqlite3_error_offset`). Bound values are kept
/// out of the description on purpose: they may be private.
public struct SQLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The primary result code (`SQLITE_CONSTRAINT` = 19, ...).
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, ...).
    public var extendedCode: Int32
    public var message: String
    public var sql: String?
    /// Byte offset into `sql` of the offending token, or nil.
    public var offset: Int?

    public init(code: Int32, extendedCode: Int32, message: String, sql: String? = nil, offset: Int? = nil) {
        self.code = code
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
        self.offset = offset
    }

    public var isConstraint: Bool { code == 19 }
    public var isBusy: Bool { code == 5 || code == 6 }

    public var description: String {
        var s = "SQLite error \(extendedCode): \(message)"
        if let sql { s += " in «\(sql)»" }
        if let offset { s += " at offset \(offset)" }
        return s
    }
}
