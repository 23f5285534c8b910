// Reads a connection keeps while the database is unchanged (the planner's index counts, the
// indexing configuration, whether a profile targets every thing): reused for the same query
// again, read again once another connection commits or this one writes; on PostgreSQL, which
// has no data version, never kept.
@testable import FleetIndex
import FleetTestSupport
import Foundation
import Testing

@Suite struct KeptReadsTests {
    static let query = "attributes.site:s1 AND attributes.n:5"

    /// A new database with `n` things at sites s0…s3, `n` 0…9.
    static func fleet(_ n: Int, backend: Backend = .sqlite) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        for i in 0..<n { _ = try r.createThing(name: "t-\(i)", typeName: String?.none, attributes: [("site", "s\(i % 4)"), ("n", "\(i % 10)")], at: 0) }
        return db
    }

    /// What the planner counted for `query`, as `--explain` shows it.
    static func estimates(_ db: FleetDatabase) throws -> [String] {
        let report = try Search(db).explain(query, at: 0)
        return report.split(separator: "\n").filter { $0.hasPrefix("  (attributes") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func countsAreKeptUntilTheDatabaseChanges() throws {
        let db = try Self.fleet(40)
        let first = try Self.estimates(db)
        #expect(first == [#"(attributes.site "s1") 10 (asked up to 10000)"#, #"(attributes.n (= 5)) at least 3 (asked up to 3)"#])
        let reads = db.connection.keptReads
        // The same query again (a server's next request, the next page): nothing read again.
        #expect(try Self.estimates(db) == first)
        _ = try Search(db).searchIndex(indexName: nil, query: Self.query, maxResults: 2, nextToken: nil, at: 0)
        let afterSearch = db.connection.keptReads
        _ = try Search(db).searchIndex(indexName: nil, query: Self.query, maxResults: 2, nextToken: nil, at: 0)
        #expect(db.connection.keptReads == afterSearch)
        #expect(afterSearch > reads)   // the documents' reads, kept from the first search

        // Another connection commits: the counts are read again and are the new ones.
        let other = try FleetDatabase(path: db.connection.location)
        for i in 40..<48 { _ = try Registry(other).createThing(name: "t-\(i)", typeName: String?.none, attributes: [("site", "s1"), ("n", "5")], at: 0) }
        #expect(try Self.estimates(db).first == #"(attributes.site "s1") 18 (asked up to 10000)"#)

        // This connection writes: read again too.
        _ = try Registry(db).deleteThing(name: "t-41", expectedVersion: nil, at: 0)
        #expect(try Self.estimates(db).first == #"(attributes.site "s1") 17 (asked up to 10000)"#)
    }

    @Test func theIndexingConfigurationIsReadAgainAfterAnUpdate() throws {
        let db = try Self.fleet(4)
        let config = try db.indexingConfiguration()
        #expect(config["thingConnectivityIndexingMode"]?.stringValue == "STATUS")
        let other = try FleetDatabase(path: db.connection.location)
        _ = try IndexConfiguration(other).update(jsonObject([("thingIndexingMode", .string("REGISTRY")), ("thingConnectivityIndexingMode", .string("OFF"))]))
        #expect(try db.indexingConfiguration()["thingConnectivityIndexingMode"]?.stringValue == "OFF")
        let doc = try Search(db).searchIndex(indexName: nil, query: "thingName:t-1", maxResults: 1, nextToken: nil, at: 0)
        #expect(doc["things"]?.arrayValue?.first?["connectivity"] == nil)
    }

    /// A configuration written and read inside a transaction that rolls back is not kept.
    @Test func nothingReadInARolledBackTransactionIsKept() throws {
        let db = try Self.fleet(4)
        _ = try db.indexingConfiguration()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                _ = try IndexConfiguration(db).update(jsonObject([("thingIndexingMode", .string("REGISTRY")), ("thingConnectivityIndexingMode", .string("OFF"))]))
                #expect(try db.indexingConfiguration()["thingConnectivityIndexingMode"]?.stringValue == "OFF")
                throw Boom()
            }
        }
        #expect(try db.indexingConfiguration()["thingConnectivityIndexingMode"]?.stringValue == "STATUS")
    }

    /// A kept nil is kept; a key not yet kept is read, whatever `T` is; a failed read keeps nothing.
    @Test func keptValuesIncludingNil() throws {
        let db = try Self.fleet(0)
        let c = db.connection
        var calls = 0
        let none: Int? = c.kept("none") { calls += 1; return nil }
        let again: Int? = c.kept("none") { calls += 1; return 7 }
        let five: Int? = c.kept("five") { calls += 1; return 5 }
        #expect(none == nil && again == nil && five == 5 && calls == 2)
        // A read that fails keeps nothing: the next one reads.
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) { let _: Int = try c.kept("failed") { calls += 1; throw Interrupted() } }
        let read: Int = c.kept("failed") { calls += 1; return 9 }
        #expect(read == 9 && calls == 4)
    }

    @Test func postgresKeepsNothing() throws {
        let db = try Self.fleet(8, backend: .postgres)
        let before = db.connection.keptReads
        let first = try Self.estimates(db)
        let reads = db.connection.keptReads
        #expect(try Self.estimates(db) == first)
        #expect(reads > before && db.connection.keptReads - reads == reads - before)
    }
}
