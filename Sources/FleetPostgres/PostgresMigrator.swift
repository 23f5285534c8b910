// FleetPostgres: the PostgreSQL migrations (Schema/postgres/NNNN_name.sql, embedded at build
// time), applied in order, each in its own transaction, tracked in `fleetdex_schema`. An
// advisory lock makes several processes starting on one new database migrate it once.

/// One migration file.
public struct PostgresMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init?(fileName: String, sql: String) {
        let base = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = base.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let v = Int(parts[0]) else { return nil }
        version = v
        name = String(parts[1])
        self.sql = sql
    }
}

/// Applies the embedded PostgreSQL migrations forward.
public struct PostgresMigrator: Sendable {
    public let migrations: [PostgresMigration]
    /// The advisory lock key every fleetdex process takes while it migrates.
    static let lockKey: Int64 = 0x666C_6565_7464_6578   // "fleetdex"

    public init(_ migrations: [PostgresMigration] = PostgresMigrator.embedded) throws(PostgresError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (i, m) in sorted.enumerated() where m.version != i + 1 {
            throw PostgresError(sqlState: "XX000", message: "PostgreSQL migrations are not numbered without gaps: expected \(i + 1), found \(m.version)")
        }
        self.migrations = sorted
    }

    /// The migrations embedded from `Schema/postgres/`.
    public static var embedded: [PostgresMigration] {
        EmbeddedPostgresSchema.migrations.compactMap { PostgresMigration(fileName: $0.0, sql: $0.1) }
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version of the database (0 for an empty one).
    /// One round trip: a database without fleetdex's table answers "undefined table" (42P01).
    /// Outside a transaction only (the migration's own reads follow its CREATE TABLE).
    public static func currentVersion(of db: PostgresConnection) throws(PostgresError) -> Int {
        do {
            return Int(try db.query("SELECT coalesce(max(version), 0) FROM fleetdex_schema").first?.int(0) ?? 0)
        } catch where error.sqlState == "42P01" {
            return 0
        }
    }

    /// Migrates `db` to the latest version; returns the versions applied.
    @discardableResult
    public func migrate(_ db: PostgresConnection) throws(PostgresError) -> [Int] {
        // Up to date (every start but the first): one read, no lock, no transaction.
        if try Self.currentVersion(of: db) == latestVersion { return [] }
        var applied: [Int] = []
        try db.execute(script: "BEGIN")
        do throws(PostgresError) {
            try db.execute("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            try db.execute(script: "CREATE TABLE IF NOT EXISTS fleetdex_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            let current = try Self.currentVersion(of: db)
            if current > latestVersion {
                throw PostgresError(sqlState: "XX000", message: "the database is at schema version \(current), newer than this binary (\(latestVersion)); use a newer fleetdex")
            }
            for m in migrations where m.version > current {
                try db.execute(script: "SAVEPOINT migration")
                do throws(PostgresError) {
                    try db.execute(script: m.sql)
                } catch var e {
                    e.message = "migration \(m.version) (\(m.name)) failed: \(e.message)"
                    throw e
                }
                try db.execute("INSERT INTO fleetdex_schema(version, name) VALUES ($1, $2)", [m.version, m.name])
                try db.execute(script: "RELEASE SAVEPOINT migration")
                applied.append(m.version)
            }
            try db.execute(script: "COMMIT")
        } catch {
            try? db.execute(script: "ROLLBACK")
            throw error
        }
        return applied
    }
}
