// FleetSQLite: one database connection (WAL, busy timeout, foreign keys), its statement
// cache and transactions. One Connection per owner; it is not shared across threads.
import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connection to one SQLite database file (or `:memory:`).
///
/// For example:
///
///     let db = try Connection(path: "fleet.sqlite")
///     try db.execute("INSERT INTO thing(name) VALUES (?)", ["pump-17"])
///     let n = try db.scalar("SELECT count(*) FROM thing")?.int
public final class Connection {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    public let path: String

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX
        // A C string ends at the first NUL: such a path would name another file.
        guard !path.utf8.contains(0) else {
            throw SQLiteError(code: SQLITE_CANTOPEN, extendedCode: SQLITE_CANTOPEN,
                              message: "cannot open database \(path.debugDescription): the path contains a NUL byte")
        }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let systemErrno = db.map { sqlite3_system_errno($0) } ?? 0
            sqlite3_close(db)
            let cause = rc & 0xff == SQLITE_CANTOPEN ? Self.whyNotOpened(path, systemErrno: systemErrno) : message
            throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: "cannot open database \(path): \(cause)")
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(Self.defaultBusyTimeout))
        // A file that is not a database fails here, on its first read.
        try execute(script: "PRAGMA foreign_keys = ON;")
        if path != ":memory:" && !readOnly {
            try execute(script: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        }
    }

    /// Why `path` cannot be opened, in the terms of the file system: the directory that is
    /// missing, a directory in the way, or the system's reason (permission denied, ...).
    static func whyNotOpened(_ path: String, systemErrno: Int32) -> String {
        var dir = path
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        if let slash = dir.lastIndex(of: "/") {
            dir = slash == dir.startIndex ? "/" : String(dir[..<slash])
        } else {
            dir = "."
        }
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
        if stat(dir, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR { return "the directory \(dir) does not exist" }
            return "\(dir): " + reason(e)
        }
        if (st.st_mode & S_IFMT) != S_IFDIR { return "\(dir) is not a directory" }
        if systemErrno != 0 { return reason(systemErrno) }
        return "unable to open the database file"
    }

    private static func reason(_ e: Int32) -> String {
        guard let r = strerror(e) else { return "error \(e)" }
        return String(cString: r).lowercased()
    }

    deinit {
        cache.removeAll()
        generated.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, sql: String? = nil) -> SQLiteError {
        let offset = Int(sqlite3_error_offset(handle))
        return SQLiteError(code: rc & 0xff, extendedCode: sqlite3_extended_errcode(handle),
                           message: String(cString: sqlite3_errmsg(handle)), sql: sql,
                           offset: offset >= 0 ? offset : nil)
    }

    /// A cached prepared statement for `sql` (prepared once per connection).
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try prepare(sql, keptIn: &cache, persistent: true, limit: nil)
    }

    /// A statement that is not cached (one-off SQL such as `EXPLAIN QUERY PLAN`).
    public func prepareUncached(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(sql: sql, connection: self, persistent: false)
    }

    /// Generated SQL's statements (compiled queries: the text depends only on the query's
    /// shape and plan, its values are bound), at most `generatedLimit`: a server runs the same
    /// searches again and again, and a statement prepared again costs as much as a short search.
    private var generated: [String: Statement] = [:]
    public static let generatedLimit = 64

    /// A prepared statement for generated SQL, kept among the last `generatedLimit` texts.
    public func prepareGenerated(_ sql: String) throws(SQLiteError) -> Statement {
        try prepare(sql, keptIn: &generated, persistent: false, limit: Self.generatedLimit)
    }

    /// The statement kept in `statements` for `sql`, reset; else a new one, kept (all dropped
    /// first when `limit` are kept).
    private func prepare(_ sql: String, keptIn statements: inout [String: Statement], persistent: Bool,
                         limit: Int?) throws(SQLiteError) -> Statement {
        if let s = statements[sql] {
            s.reset()
            return s
        }
        let s = try Statement(sql: sql, connection: self, persistent: persistent)
        if let limit, statements.count >= limit { statements.removeAll(keepingCapacity: true) }
        statements[sql] = s
        return s
    }

    /// Runs one or more statements without parameters (migrations, PRAGMAs).
    public func execute(script: String) throws(SQLiteError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, script, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(err)
            let offset = Int(sqlite3_error_offset(handle))
            throw SQLiteError(code: rc & 0xff, extendedCode: sqlite3_extended_errcode(handle),
                              message: message, sql: script, offset: offset >= 0 ? offset : nil)
        }
    }

    /// Runs one statement with `binds`, discarding any rows.
    public func execute(_ sql: String, _ binds: [any SQLiteBindable] = []) throws(SQLiteError) {
        let s = try prepare(sql)
        try s.bind(binds.map(\.sqliteValue))
        while try s.step() {}
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ binds: [any SQLiteBindable] = []) throws(SQLiteError) -> SQLiteValue? {
        let s = try prepare(sql)
        try s.bind(binds.map(\.sqliteValue))
        defer { s.reset() }
        return try s.step() ? s.value(0) : nil
    }

    /// Calls `row` for each result row of `sql`.
    public func forEach(_ sql: String, _ binds: [any SQLiteBindable] = [],
                        _ row: (Statement) throws -> Void) throws {
        let s = try prepare(sql)
        try s.bind(binds.map(\.sqliteValue))
        defer { s.reset() }
        while try s.step() { try row(s) }
    }

    /// Maps each result row of `sql`.
    public func query<T>(_ sql: String, _ binds: [any SQLiteBindable] = [],
                         _ row: (Statement) throws -> T) throws -> [T] {
        var out: [T] = []
        try forEach(sql, binds) { out.append(try row($0)) }
        return out
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows this connection has changed since it opened (every INSERT, UPDATE and DELETE,
    /// committed or not): with `PRAGMA data_version`, which moves when another connection
    /// commits, it tells whether the database can differ from an earlier read.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (or a savepoint when one is open),
    /// committing on return and rolling back on a thrown error.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if isInTransaction {
            try execute(script: "SAVEPOINT nested")
            do {
                let r = try body()
                try execute(script: "RELEASE nested")
                return r
            } catch {
                try? execute(script: "ROLLBACK TO nested; RELEASE nested")
                throw error
            }
        }
        try execute(script: "BEGIN IMMEDIATE")
        do {
            let r = try body()
            try execute(script: "COMMIT")
            return r
        } catch {
            try? execute(script: "ROLLBACK")
            throw error
        }
    }

    /// `EXPLAIN QUERY PLAN` of `sql` with real bound values, one line per plan row.
    public func queryPlan(_ sql: String, _ binds: [SQLiteValue]) throws(SQLiteError) -> [String] {
        let s = try prepareUncached("EXPLAIN QUERY PLAN " + sql)
        try s.bind(binds)
        var rows: [(Int64, Int64, String)] = []
        while try s.step() { rows.append((s.int(0), s.int(1), s.text(3))) }
        var depth: [Int64: Int] = [0: 0]
        return rows.map { id, parent, detail in
            let d = (depth[parent] ?? 0)
            depth[id] = d + 1
            return String(repeating: "  ", count: d) + detail
        }
    }

    /// The SQLite library version, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// How long, in milliseconds, a statement waits for another connection's lock before it
    /// fails with SQLITE_BUSY ("database is locked"), unless `busyTimeout` says otherwise.
    public static let defaultBusyTimeout = 5000

    /// How long, in milliseconds, a statement of this connection waits for another
    /// connection's lock (SQLite's busy handler) before it fails with SQLITE_BUSY.
    public var busyTimeout: Int = Connection.defaultBusyTimeout {
        didSet { sqlite3_busy_timeout(handle, Int32(clamping: max(0, busyTimeout))) }
    }

    /// What `stopWhen` installed (called by SQLite's progress handler).
    private var shouldStop: (() -> Bool)?

    /// Makes statements stop early: about every `instructions` virtual-machine steps of a running
    /// statement `shouldStop` is asked, and once it answers true that statement (and each one
    /// stepped after it, while it keeps answering true) fails with SQLITE_INTERRUPT (code 9), as
    /// with `sqlite3_interrupt`: an interrupted INSERT, UPDATE or DELETE inside a transaction rolls
    /// the whole transaction back; a read transaction stays open. nil removes it. Set it on the
    /// thread that owns the connection; `shouldStop` runs there, inside `step`.
    public func stopWhen(every instructions: Int32 = 1000, _ shouldStop: (() -> Bool)?) {
        self.shouldStop = shouldStop
        guard shouldStop != nil else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            return
        }
        sqlite3_progress_handler(handle, max(1, instructions), { context in
            guard let context else { return 0 }
            return Unmanaged<Connection>.fromOpaque(context).takeUnretainedValue().shouldStop?() == true ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Resets every statement left mid-step (a read stopped after its first row keeps its read
    /// transaction, and with it an old snapshot, until reset); returns how many there were.
    @discardableResult
    public func resetBusyStatements() -> Int {
        var n = 0
        var s = sqlite3_next_stmt(handle, nil)
        while let st = s {
            if sqlite3_stmt_busy(st) != 0 {
                sqlite3_reset(st)
                n += 1
            }
            s = sqlite3_next_stmt(handle, st)
        }
        return n
    }

    /// Statements still mid-step (tests assert none are left busy).
    public var busyStatementCount: Int {
        var n = 0
        var s = sqlite3_next_stmt(handle, nil)
        while let st = s {
            if sqlite3_stmt_busy(st) != 0 { n += 1 }
            s = sqlite3_next_stmt(handle, st)
        }
        return n
    }
}
