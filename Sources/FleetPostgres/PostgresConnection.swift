// FleetPostgres: one connection to a PostgreSQL server through libpq, the only module that
// calls libpq (Debian: libpq-dev). Parameters are always bound (`$1`, `$2`, ...), never
// spliced into SQL text; statements are prepared once per connection and cached.
// One connection per owner; like libpq's PGconn it is not shared across threads.
import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connection to one PostgreSQL database.
///
/// For example:
///
///     let db = try PostgresConnection(url: "postgres://fleetdex@127.0.0.1:5432/fleet")
///     try db.execute("INSERT INTO thing(name) VALUES ($1)", ["pump-17"])
///     let n = try db.query("SELECT count(*) FROM thing").first?.int(0)
public final class PostgresConnection {
    let handle: OpaquePointer
    private var prepared: [String: String] = [:]
    /// Texts run once and not prepared (yet).
    private var ranOnce: Set<String> = []
    /// The most statements a connection keeps prepared (and texts it remembers running once).
    static let preparedLimit = 1024
    /// The connection string as given (a `postgres://` URL or `key=value` pairs).
    public let url: String

    /// Connects with libpq's rules: a `postgres://` or `postgresql://` URL, or `key=value`
    /// pairs; whatever they leave out comes from the `PG*` environment variables, and a
    /// password from the URL or `~/.pgpass`.
    /// `session` (statements without parameters) runs with the connection's own settings, in
    /// the same round trip.
    public init(url: String, session: String = "") throws(PostgresError) {
        guard fxpq_load() != 0 else {
            let why = fxpq_load_error().map { String(cString: $0) } ?? "unknown"
            throw PostgresError(sqlState: "08001", message: "libpq is not installed (Debian: libpq5): \(why)")
        }
        guard !url.utf8.contains(0) else {
            throw PostgresError(sqlState: "08001", message: "the connection string contains a NUL byte")
        }
        guard let conn = fxpq_connectdb(url) else {
            throw PostgresError(sqlState: "08001", message: "out of memory")
        }
        guard fxpq_status(conn) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: fxpq_errorMessage(conn)))
            fxpq_finish(conn)
            throw PostgresError(sqlState: "08001", message: "cannot connect to \(Self.redacted(url)): \(message)")
        }
        handle = conn
        self.url = url
        fxpq_setNoticeProcessor(conn, { _, _ in }, nil)   // NOTICEs ("already exists, skipping") are not errors
        try execute(script: "SET client_encoding = 'UTF8'; SET timezone = 'UTC'" + (session.isEmpty ? "" : "; " + session))
    }

    deinit { fxpq_finish(handle) }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// The connection string with every password replaced by `***`, for messages and logs:
    /// a URL's `user:password@` and `password=` query parameter, and a `password=` pair.
    public static func redacted(_ url: String) -> String {
        var text = url
        if isURL(text), let slash = text.firstIndex(of: "/") {
            let start = text.index(slash, offsetBy: 2)   // past "//"
            let authority = text[start...].prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), let colon = text[start..<at].firstIndex(of: ":") {
                text = String(text[...colon]) + "***" + text[at...]
            }
        }
        // `password=…` up to the next `&` or space (a URL's query, or key=value pairs).
        var out = ""
        var rest = Substring(text)
        while let r = rest.firstRange(of: "password=") {
            out += rest[..<r.upperBound] + "***"
            rest = rest[r.upperBound...].drop { $0 != "&" && $0 != " " }
        }
        return out + rest
    }

    static func trimmed(_ s: String) -> String {
        var s = s
        while let last = s.last, last == "\n" || last == " " { s.removeLast() }
        return s
    }

    /// The server's error for a result (or the connection's when there is no result).
    func error(_ result: OpaquePointer?, sql: String?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let p = fxpq_resultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let message = field("M") ?? Self.trimmed(String(cString: fxpq_errorMessage(handle)))
        let state = field("C") ?? (fxpq_status(handle) == CONNECTION_OK ? "XX000" : "08006")
        return PostgresError(sqlState: state, message: message, detail: field("D"), hint: field("H"),
                             position: field("P").flatMap { Int($0) }, sql: sql)
    }

    /// Runs one or more statements without parameters (migrations, SET).
    public func execute(script: String) throws(PostgresError) {
        let r = fxpq_exec(handle, script)
        defer { fxpq_clear(r) }
        let status = fxpq_resultStatus(r)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(r, sql: script) }
    }

    /// Runs one statement with `binds`; returns the rows it produced (none for most writes).
    /// A text run once goes in one round trip (parsed, bound and run unnamed); from its second
    /// run on it is prepared once and executed by name, so a one-shot process (a CLI search)
    /// pays one round trip per statement, not two, and a long-lived one parses each text once.
    @discardableResult
    public func query(_ sql: String, _ binds: [any PostgresBindable] = []) throws(PostgresError) -> PostgresRows {
        let texts = binds.map { $0.postgresValue.wireText }
        if let i = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(sqlState: "22021", message: "parameter $\(i + 1) contains a NUL byte, which PostgreSQL text cannot hold", sql: sql)
        }
        let r: OpaquePointer?
        if let name = prepared[sql] {
            r = Self.withCStrings(texts) { fxpq_execPrepared(handle, name, Int32($0.count), $0, nil, nil, 0) }
        } else if !ranOnce.contains(sql) {
            if ranOnce.count >= Self.preparedLimit { ranOnce.removeAll() }
            ranOnce.insert(sql)
            r = Self.withCStrings(texts) { fxpq_execParams(handle, sql, Int32($0.count), $0) }
        } else {
            if prepared.count >= Self.preparedLimit {
                // Generated texts (compiled queries) vary: a long-lived connection forgets its
                // prepared statements at the limit instead of growing on the server.
                try execute(script: "DEALLOCATE ALL")
                prepared.removeAll()
            }
            let name = "s\(prepared.count + 1)"
            let p = fxpq_prepare(handle, name, sql, 0, nil)
            defer { fxpq_clear(p) }
            guard fxpq_resultStatus(p) == PGRES_COMMAND_OK else { throw error(p, sql: sql) }
            prepared[sql] = name
            ranOnce.remove(sql)
            r = Self.withCStrings(texts) { fxpq_execPrepared(handle, name, Int32($0.count), $0, nil, nil, 0) }
        }
        let status = fxpq_resultStatus(r)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK, let r else {
            let e = error(r, sql: sql)
            fxpq_clear(r)
            throw e
        }
        return PostgresRows(r)
    }

    /// Runs one statement with `binds`, discarding any rows; returns the rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ binds: [any PostgresBindable] = []) throws(PostgresError) -> Int {
        try query(sql, binds).affected
    }

    /// Runs `body` in a transaction (a savepoint inside one), committing on return and rolling
    /// back on a thrown error.
    /// With `advisoryLock`, the outermost transaction holds that transaction-scoped advisory
    /// lock from its start (`begin(advisoryLock:)`).
    public func transaction<T>(advisoryLock: Int64? = nil, _ body: () throws -> T) throws -> T {
        if isInTransaction {
            try execute(script: "SAVEPOINT nested")
            do {
                let r = try body()
                try execute(script: "RELEASE SAVEPOINT nested")
                return r
            } catch {
                try? execute(script: "ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested")
                throw error
            }
        }
        try begin(advisoryLock: advisoryLock)
        do {
            let r = try body()
            try execute(script: "COMMIT")
            return r
        } catch {
            try? execute(script: "ROLLBACK")
            throw error
        }
    }

    /// Opens a transaction by hand (`COMMIT`/`ROLLBACK` end it), holding `advisoryLock` (a
    /// `pg_advisory_xact_lock`, waited for) when one is given; `shared`: the lock's shared
    /// mode (`pg_advisory_xact_lock_shared`), which other shared holders take at the same time
    /// and an exclusive holder excludes.
    public func begin(advisoryLock: Int64? = nil, shared: Bool = false) throws(PostgresError) {
        try execute(script: "BEGIN")
        guard let advisoryLock else { return }
        do throws(PostgresError) {
            try execute(shared ? "SELECT pg_advisory_xact_lock_shared($1)" : "SELECT pg_advisory_xact_lock($1)", [advisoryLock])
        } catch {
            try? execute(script: "ROLLBACK")
            throw error
        }
    }

    public var isInTransaction: Bool { fxpq_transactionStatus(handle) != PQTRANS_IDLE }

    /// The server's version number, e.g. 150018 for 15.18.
    public var serverVersion: Int { Int(fxpq_serverVersion(handle)) }

    /// The client library's version number.
    public static var libraryVersion: Int { Int(fxpq_libVersion()) }

    private static func withCStrings<R>(_ texts: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let owned: [UnsafeMutablePointer<CChar>?] = texts.map { t in t.map { strdupNoNUL($0) } }
        defer { for p in owned { free(p) } }
        return body(owned.map { $0.map { UnsafePointer($0) } })
    }

    /// A C copy of `s` (checked for NUL bytes before).
    private static func strdupNoNUL(_ s: String) -> UnsafeMutablePointer<CChar> {
        s.withCString { strdup($0)! }
    }
}
