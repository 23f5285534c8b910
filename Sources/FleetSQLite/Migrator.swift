// FleetSQLite: applies numbered migrations in order, each in its own transaction, tracked
// by PRAGMA user_version.

/// One schema migration: `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Parses a file name `0001_thing.sql` into a migration.
    public init?(fileName: String, sql: String) {
        let base = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = base.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let v = Int(parts[0]) else { return nil }
        self.init(version: v, name: String(parts[1]), sql: sql)
    }
}

/// Errors of the migrator itself (SQL errors come as `SQLiteError`).
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case gap(expected: Int, found: Int)
    case databaseNewer(database: Int, binary: Int)
    case failed(version: Int, name: String, error: SQLiteError)

    public var description: String {
        switch self {
        case .gap(let e, let f): "migrations are not numbered without gaps: expected \(e), found \(f)"
        case .databaseNewer(let d, let b):
            "the database is at schema version \(d), newer than this binary (\(b)); use a newer fleetdex"
        case .failed(let v, let n, let e): "migration \(v) (\(n)) failed: \(e.message)"
        }
    }
}

/// Applies migrations forward. Migrating twice is a no-op; a failing migration is rolled
/// back whole and leaves `user_version` where it was.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) throws(MigrationError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (i, m) in sorted.enumerated() where m.version != i + 1 {
            throw .gap(expected: i + 1, found: m.version)
        }
        self.migrations = sorted
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    public static func currentVersion(of db: Connection) throws(SQLiteError) -> Int {
        Int(try db.scalar("PRAGMA user_version")?.int ?? 0)
    }

    /// Migrates `db` to the latest version; returns the versions applied.
    @discardableResult
    public func migrate(_ db: Connection) throws -> [Int] {
        let current = try Self.currentVersion(of: db)
        if current > latestVersion { throw MigrationError.databaseNewer(database: current, binary: latestVersion) }
        var applied: [Int] = []
        for m in migrations where m.version > current {
            do throws(SQLiteError) {
                try db.execute(script: "BEGIN IMMEDIATE")
                try db.execute(script: m.sql)
                try db.execute(script: "PRAGMA user_version = \(m.version)")
                try db.execute(script: "COMMIT")
            } catch let e {
                try? db.execute(script: "ROLLBACK")
                throw MigrationError.failed(version: m.version, name: m.name, error: e)
            }
            applied.append(m.version)
        }
        return applied
    }
}
