// Test fixtures: a fresh database in a temporary file per test, and small fleet builders.
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Foundation

/// All of this test process's databases live under one directory, removed when it exits.
let testRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-tests-\(getpid())").path) }
    return root
}()

/// The engines a test runs on: the suites of the engine's stages take every case.
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }
}

enum Fixtures {
    /// A new, migrated database: in its own temporary file (SQLite), or a database of its own
    /// on the tests' throwaway PostgreSQL cluster.
    static func database(_ backend: Backend = .sqlite) throws -> FleetDatabase {
        if backend == .postgres {
            return try FleetDatabase(path: try PostgresCluster.shared().database(), region: "us-east-1", account: "123456789012")
        }
        let dir = testRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try FleetDatabase(path: dir.appendingPathComponent("fleet.sqlite").path, region: "us-east-1", account: "123456789012")
    }

    static func ms(_ iso: String) -> Int64 { Timestamp.parse(iso)! }

    static let t0 = ms("2026-11-28T10:00:20Z")

    static func event(_ client: String, _ at: Int64, _ kind: LifecycleEvent.Kind, session: String = "s1", version: Int64 = 1,
                      reason: String = "CONNECTION_LOST") -> LifecycleEvent {
        LifecycleEvent(clientId: client, timestamp: at, kind: kind, session: session, version: version,
                       reason: kind == .disconnected ? reason : nil)
    }

    static func ingest(_ db: FleetDatabase, _ events: [LifecycleEvent]) throws {
        let p = Presence(db)
        try db.connection.transaction { for e in events { _ = try p.ingest(e) } }
    }

    static func behaviors(_ op: String = "less-than", _ count: Int = 5, alarm: Int = 1, clear: Int = 1, name: String = "B",
                          metric: String = "aws:disconnect-duration") -> JSONValue {
        .array([jsonObject([("name", .string(name)), ("metric", .string(metric)),
                            ("criteria", jsonObject([("comparisonOperator", .string(op)), ("value", jsonObject([("count", .int(count))])),
                                                     ("consecutiveDatapointsToAlarm", .int(alarm)), ("consecutiveDatapointsToClear", .int(clear))]))])])
    }

    /// Names of the things a query finds, all pages.
    static func search(_ db: FleetDatabase, _ q: String, at now: Int64 = 0) throws -> [String] {
        let s = Search(db)
        var out: [String] = []
        var token: String? = nil
        repeat {
            let r = try s.searchIndex(indexName: nil, query: q, maxResults: 500, nextToken: token, at: now)
            out += (r["things"]?.arrayValue ?? []).compactMap { $0["thingName"]?.stringValue }
            token = r["nextToken"]?.stringValue
        } while token != nil
        return out
    }
}
