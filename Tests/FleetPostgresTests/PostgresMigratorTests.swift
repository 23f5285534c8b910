// The embedded PostgreSQL migrations: applied once, by one process at a time.
import FleetPostgres
import FleetTestSupport
import Foundation
import Testing

@Suite struct PostgresMigratorTests {
    @Test func migratesAnEmptyDatabaseOnceAndThenIsANoOp() throws {
        let db = try freshDatabase()
        let migrator = try PostgresMigrator()
        #expect(migrator.latestVersion >= 1)
        #expect(try PostgresMigrator.currentVersion(of: db) == 0)
        #expect(try migrator.migrate(db) == Array(1...migrator.latestVersion))
        #expect(try PostgresMigrator.currentVersion(of: db) == migrator.latestVersion)
        #expect(try migrator.migrate(db) == [])
        let tables = try db.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").first?.int(0) ?? 0
        #expect(tables == Int64(CitusLayout.reference.count + CitusLayout.distributed.count + CitusLayout.local.count))
    }

    @Test func severalProcessesStartingTogetherMigrateOnce() throws {
        let url = try PostgresCluster.shared().database()
        let errors = NSLock()
        nonisolated(unsafe) var failures: [String] = []
        nonisolated(unsafe) var appliedCounts: [Int] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do {
                let db = try PostgresConnection(url: url)
                let applied = try PostgresMigrator().migrate(db)
                errors.lock(); appliedCounts.append(applied.count); errors.unlock()
            } catch {
                errors.lock(); failures.append("\(error)"); errors.unlock()
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(appliedCounts.filter { $0 > 0 }.count == 1)
    }

    @Test func aFailingMigrationLeavesTheDatabaseAsItWas() throws {
        let db = try freshDatabase()
        let good = PostgresMigration(fileName: "0001_a.sql", sql: "CREATE TABLE a (k bigint PRIMARY KEY);")!
        let bad = PostgresMigration(fileName: "0002_b.sql", sql: "CREATE TABLE b (k bigint); SELEC oops;")!
        #expect(throws: PostgresError.self) { try PostgresMigrator([good, bad]).migrate(db) }
        #expect(try db.query("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL").first?.bool(0) == true)
        #expect(try PostgresMigrator.currentVersion(of: db) == 0)
        #expect(throws: PostgresError.self) { try PostgresMigrator([bad]) }   // a gap: 0002 without 0001
    }
}
