// FleetIndex storage: the connection every store writes through, on SQLite (FleetSQLite) or
// PostgreSQL (FleetPostgres). Stores write `?` placeholders and the forms both engines read
// (`ON CONFLICT … DO UPDATE`, `RETURNING`, `true`/`false`); what differs is asked of the
// connection's `dialect`. On PostgreSQL the placeholders are numbered once per statement
// text (`PostgresDialect.statementText`) and parameters go in text form.
import FleetPostgres
import FleetSQLite
import FleetStorage

/// A database connection for the stores.
public final class StoreConnection {
    enum Engine {
        case sqlite(Connection)
        case postgres(PostgresConnection)
    }
    let engine: Engine
    /// The statement forms of this engine.
    public let dialect: any StoreDialect
    /// The lowering of bound queries for this engine.
    public let queryDialect: any SQLDialect
    private var postgresText: [String: String] = [:]
    private var postgresChanges = 0

    init(sqlite c: Connection) {
        engine = .sqlite(c)
        dialect = SQLiteDialect.shared
        queryDialect = SQLiteDialect.shared
    }

    init(postgres c: PostgresConnection) {
        engine = .postgres(c)
        dialect = PostgresDialect.shared
        queryDialect = PostgresDialect.shared
    }

    /// The SQLite connection underneath (nil on PostgreSQL), for what only SQLite has
    /// (prepared statements held by the bulk importer, `EXPLAIN QUERY PLAN`, the benchmark).
    public var sqlite: Connection? {
        if case .sqlite(let c) = engine { return c }
        return nil
    }

    /// The PostgreSQL connection underneath (nil on SQLite).
    public var postgres: PostgresConnection? {
        if case .postgres(let c) = engine { return c }
        return nil
    }

    public var isPostgres: Bool { postgres != nil }

    /// The database as the user named it (a path, or the URL with its password hidden).
    public var location: String {
        switch engine {
        case .sqlite(let c): c.path
        case .postgres(let c): PostgresConnection.redacted(c.url)
        }
    }

    // MARK: statements

    /// Runs one or more statements without parameters (nothing for an empty script).
    public func execute(script: String) throws {
        guard !script.isEmpty else { return }
        switch engine {
        case .sqlite(let c): try c.execute(script: script)
        case .postgres(let c): try c.execute(script: script)
        }
    }

    /// Runs one statement with `binds`, discarding any rows.
    public func execute(_ sql: String, _ binds: [any SQLiteBindable] = []) throws {
        switch engine {
        case .sqlite(let c): try c.execute(sql, binds)
        case .postgres(let c): postgresChanges = try c.execute(statementText(sql), Self.postgres(binds))
        }
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ binds: [any SQLiteBindable] = []) throws -> SQLiteValue? {
        switch engine {
        case .sqlite(let c): return try c.scalar(sql, binds)
        case .postgres(let c):
            let rows = try c.query(statementText(sql), Self.postgres(binds))
            postgresChanges = rows.affected
            guard let first = rows.first else { return nil }
            return StoreRow(source: .postgres(first)).value(0)
        }
    }

    /// Calls `row` for each result row of `sql`.
    public func forEach(_ sql: String, _ binds: [any SQLiteBindable] = [], _ row: (StoreRow) throws -> Void) throws {
        switch engine {
        case .sqlite(let c): try c.forEach(sql, binds) { try row(StoreRow(source: .sqlite($0))) }
        case .postgres(let c):
            let rows = try c.query(statementText(sql), Self.postgres(binds))
            postgresChanges = rows.affected
            for r in rows { try row(StoreRow(source: .postgres(r))) }
        }
    }

    /// Maps each result row of `sql`.
    public func query<T>(_ sql: String, _ binds: [any SQLiteBindable] = [], _ row: (StoreRow) throws -> T) throws -> [T] {
        var out: [T] = []
        try forEach(sql, binds) { out.append(try row($0)) }
        return out
    }

    /// Records the rows a statement run elsewhere (StoreStatement) changed.
    func noteChanges(_ n: Int) { postgresChanges = n }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int {
        switch engine {
        case .sqlite(let c): c.changes
        case .postgres: postgresChanges
        }
    }

    public var isInTransaction: Bool {
        switch engine {
        case .sqlite(let c): c.isInTransaction
        case .postgres(let c): c.isInTransaction
        }
    }

    /// Runs `body` in one write transaction (a savepoint inside another).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        switch engine {
        case .sqlite(let c): return try c.transaction(body)
        case .postgres(let c):
            if !c.isInTransaction { writeTransactions += 1 }
            return try c.transaction(advisoryLock: Self.writeLock, body)
        }
    }

    /// Opens an ingest batch's write transaction by hand. SQLite: `BEGIN IMMEDIATE`, as
    /// `begin`. PostgreSQL: `BEGIN` and the fleet's write lock in its shared mode, so the
    /// ingest batches of several processes and serve instances run at the same time, each
    /// holding its clients' rows (`PresenceStore.clients` locks them in key order); every other
    /// write transaction holds the lock exclusively, so it waits for the batches in flight and
    /// they for it (an evaluation still sees no batch half done).
    public func beginIngest() throws { try begin(sharingTheLock: true) }

    private var writeTransactions = 0

    /// On PostgreSQL, a number for the write transaction now open on this connection (nil
    /// outside one): while it is open this connection holds the fleet's write lock (at least
    /// shared), so no exclusive writer commits (registry, profiles, groups, evaluation), and
    /// what it read of their data stays as read until it ends. Nil on SQLite.
    public var writeTransaction: Int? {
        guard case .postgres(let c) = engine, c.isInTransaction else { return nil }
        return writeTransactions
    }

    /// The advisory lock every fleetdex write transaction on PostgreSQL holds until it ends.
    static let writeLock: Int64 = 0x666C_6565_7464_7877   // "fleetdxw"

    /// Opens a write transaction by hand. SQLite: `BEGIN IMMEDIATE`, the database's write lock
    /// at once. PostgreSQL: `BEGIN` and the fleet's write lock (a transaction-scoped advisory
    /// lock), so write transactions of every process and serve instance on one database run one
    /// after another, as on SQLite: an evaluation reads the ticks and alarm slots the previous
    /// one committed, so two evaluators never raise one violation twice or skip a tick.
    /// Ingest batches share the lock instead (`beginIngest`).
    /// Statements outside a transaction (reads) do not wait.
    public func begin() throws { try begin(sharingTheLock: false) }

    private func begin(sharingTheLock shared: Bool) throws {
        switch engine {
        case .sqlite(let c): try c.execute(script: "BEGIN IMMEDIATE")
        case .postgres(let c):
            writeTransactions += 1
            if shared { sharedWriteTransaction = writeTransactions }
            try c.begin(advisoryLock: Self.writeLock, shared: shared)
        }
    }

    /// The number (`writeTransaction`) of the last write transaction opened with the lock shared.
    private var sharedWriteTransaction: Int?

    /// Whether this connection is in a PostgreSQL write transaction that holds the fleet's write
    /// lock alone (every write transaction but an ingest batch): then no other fleetdex
    /// connection writes until it ends. False on SQLite and outside a transaction. (It counts
    /// the transactions `begin`, `beginIngest` and `transaction` open; a raw `BEGIN` through
    /// `execute` would not be counted, and no store runs one.)
    public var holdsTheWriteLockAlone: Bool {
        guard let n = writeTransaction else { return false }
        return n != sharedWriteTransaction
    }

    // MARK: reads kept while the database is unchanged

    /// Values derived from reads (the planner's index counts, the indexing configuration), kept
    /// until the database may have changed: SQLite's `PRAGMA data_version` moves when another
    /// connection commits and `totalChanges` when this one writes, so a kept value is what a
    /// new read would give. PostgreSQL has no such number: nothing is kept there, nor inside a
    /// transaction on SQLite.
    private var kept: [AnyHashable: Any] = [:]
    private var keptAt: (dataVersion: Int64, changes: Int64)?
    /// Kept values at most; past it the whole set is dropped (a server sees a bounded set of
    /// dashboards' queries again and again; a script's one-off queries should not grow it).
    static let keptLimit = 512
    /// How many times `kept` had to read (tests check what is reused and what is read again).
    private(set) var keptReads = 0

    /// `read()`, or its value kept under `key` from an earlier call while the database is unchanged.
    func kept<T>(_ key: AnyHashable, _ read: () throws -> T) rethrows -> T {
        // Inside a transaction nothing is kept: a rollback takes back writes without taking back
        // the count of changes, so a value read after them would outlive them.
        guard case .sqlite(let c) = engine, !c.isInTransaction, let version = try? c.scalar(dialect.dataVersion)?.int else {
            keptReads += 1
            return try read()
        }
        let now = (dataVersion: version, changes: c.totalChanges)
        if let at = keptAt, at == now {
            // A missing key must not pass for a kept nil (`T` may be an Optional).
            if let stored = kept[key], let v = stored as? T { return v }
        } else {
            kept.removeAll(keepingCapacity: true)
            keptAt = now
        }
        keptReads += 1
        let v = try read()
        if kept.count >= Self.keptLimit { kept.removeAll(keepingCapacity: true) }
        kept[key] = v
        return v
    }

    // MARK: PostgreSQL's forms

    /// The statement text with numbered placeholders, made once per text.
    func statementText(_ sql: String) -> String {
        if let t = postgresText[sql] { return t }
        let t = PostgresDialect.statementText(sql)
        postgresText[sql] = t
        return t
    }

    /// SQLite's values as PostgreSQL text parameters: whole numbers as digits (so they read as
    /// bigint where a column is one), other numbers as Swift writes a Double.
    static func postgres(_ binds: [any SQLiteBindable]) -> [any PostgresBindable] {
        binds.map { b -> PostgresValue in
            switch b.sqliteValue {
            case .null: return .null
            case .integer(let v): return .int(v)
            case .real(let d): return .text(PostgresDialect.parameterText(.real(d)))
            case .text(let s): return .text(s)
            case .blob(let bytes): return .text("\\x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
            }
        }
    }
}

extension StoreConnection {
    /// Maps the rows of generated SQL (a compiled query's): on SQLite its statement is kept
    /// among the last few generated texts, not in the connection's unbounded cache.
    func generatedQuery<T>(_ sql: String, _ binds: [SQLiteValue], _ row: (StoreRow) throws -> T) throws -> [T] {
        guard let c = sqlite else { return try query(sql, binds, row) }
        let s = try c.prepareGenerated(sql)
        defer { s.reset() }
        try s.bind(binds)
        var out: [T] = []
        while try s.step() { out.append(try row(StoreRow(source: .sqlite(s)))) }
        return out
    }
}

extension StoreConnection {
    /// Makes the running statement and every later one stop (SQLite: SQLITE_INTERRUPT, checked
    /// every `instructions` VM steps) while `shouldStop` says so; nil removes the check. On
    /// PostgreSQL a statement runs to its end (its result is read whole; PQcancel is not used),
    /// and the caller's next statement is the first not to run.
    public func stopWhen(every instructions: Int32 = 1000, _ shouldStop: (() -> Bool)?) {
        sqlite?.stopWhen(every: instructions, shouldStop)
    }

    /// How long, in milliseconds, a statement waits for another process's write lock (SQLite's
    /// busy timeout) before it fails with "database is locked"; nil on PostgreSQL, whose lock
    /// waits have no such limit here. Setting it does nothing on PostgreSQL.
    public var busyTimeout: Int? {
        get { sqlite?.busyTimeout }
        set { if let newValue { sqlite?.busyTimeout = newValue } }
    }

    /// Resets statements left mid-step (SQLite); none are on PostgreSQL, whose results are
    /// read whole. Returns how many were reset.
    @discardableResult
    public func resetBusyStatements() -> Int {
        sqlite?.resetBusyStatements() ?? 0
    }
}

extension StoreConnection {
    /// `INSERT INTO table(columns) VALUES (values)` for a row of a table distributed by a
    /// name's fleet key: on PostgreSQL `keyColumn` is added, set to the key of `name` (bound
    /// first); on SQLite the engine numbers the row itself. Returns the statement and its binds.
    public func keyedInsert(into table: String, keyColumn: String, name: String, columns: String, values: String,
                            _ binds: [any SQLiteBindable], suffix: String = "") -> (String, [any SQLiteBindable]) {
        guard let key = dialect.nameKey else {
            return ("INSERT INTO \(table)(\(columns)) VALUES (\(values))\(suffix)", binds)
        }
        return ("INSERT INTO \(table)(\(keyColumn), \(columns)) VALUES (\(key), \(values))\(suffix)", [name] + binds)
    }
}
