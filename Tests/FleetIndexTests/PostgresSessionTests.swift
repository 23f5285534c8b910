// fleetdex's session on PostgreSQL: no parallel workers unless the database (or server, role,
// connection) sets another number than PostgreSQL's default; and a new database migrates on
// first use, an up-to-date one is recognised with one read.
@testable import FleetIndex
import FleetTestSupport
import Testing

@Suite struct PostgresSessionTests {
    func workers(_ url: String) throws -> String {
        try FleetDatabase(path: url).connection.query("SHOW max_parallel_workers_per_gather") { $0.text(0) }.first ?? ""
    }

    /// (what the database sets, what a fleetdex session runs with)
    @Test(arguments: [(nil, "0"), ("2", "0"), ("4", "4"), ("0", "0"), ("1", "1")] as [(String?, String)])
    func parallelWorkers(databaseSetting: String?, session: String) throws {
        let url = try PostgresCluster.shared().database()
        let first = try FleetDatabase(path: url)         // migrates the new database
        if let databaseSetting {
            let name = String(url.split(separator: "/").last!)
            try first.connection.execute("ALTER DATABASE \(name) SET max_parallel_workers_per_gather = \(databaseSetting)")
        }
        #expect(try workers(url) == session)
        // The second open finds the schema current and changes nothing.
        #expect(try FleetDatabase(path: url).connection.query("SELECT count(*) FROM fleetdex_schema") { $0.int(0) }.first ?? 0 >= 1)
    }
}
