// The database is shared while an import or an ingest runs: another connection can read in
// the middle of an import (it stays in WAL), and write between two batches of an ingest.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

@Suite struct SharingTests {
    /// Its progress callback runs mid-import, inside the import's transaction: a connection of
    /// its own reads the last committed state there, at once (no "database is locked").
    @Test(arguments: [true, false])
    func readersDuringAnImport(_ emptyRegistry: Bool) throws {
        let db = try Fixtures.database()
        if !emptyRegistry { _ = try Registry(db).createThing(name: "before", typeName: nil, attributes: nil, at: 0) }
        let lines = (0..<3000).map { #"{"thingName":"t\#($0)","attributes":{"k":"v\#($0 % 5)"}}"# }.joined(separator: "\n")
        var seen: [Int] = []
        var failures: [String] = []
        _ = try Importer(db).importThings(LineReader(bytes: Array(lines.utf8)), atomic: false, at: 0, progress: { _ in
            do {
                let other = try FleetDatabase(path: db.connection.location)
                seen.append(try other.connection.scalar("SELECT count(*) FROM thing")?.int.map(Int.init) ?? -1)
            } catch { failures.append("\(error)") }
        })
        #expect(failures == [])
        #expect(seen.count >= 2 && seen.allSatisfy { $0 == (emptyRegistry ? 0 : 1) }, "\(seen)")
        #expect(try db.connection.scalar("PRAGMA journal_mode")?.string == "wal")
    }

    /// Between two batches the ingest holds no lock: a small writer of its own gets in at once,
    /// and its write survives the batches after it.
    @Test func writersBetweenIngestBatches() throws {
        let db = try Fixtures.database()
        let events = (0..<5000).map {
            #"{"clientId":"c\#($0 % 400)","timestamp":\#(1_795_000_000_000 + Int64($0)),"eventType":"connected","sessionIdentifier":"s\#($0)","versionNumber":\#($0)}"#
        }.joined(separator: "\n")
        var writes = 0
        var failures: [String] = []
        let s = try Presence(db).ingest(LineReader(bytes: Array(events.utf8)), batch: 500, rejected: { _, _ in }, progress: { n in
            do {
                let other = try FleetDatabase(path: db.connection.location)
                _ = try Registry(other).createThing(name: "c\(n % 400)", typeName: nil, attributes: nil, at: 0)
                writes += 1
            } catch { failures.append("\(error)") }
        })
        #expect(failures == [] && writes >= 4 && s.accepted == 5000)
        // The things created meanwhile got their clients' connectivity.
        #expect(try db.connection.scalar("SELECT count(*) FROM thing WHERE connected = 1")?.int == Int64(writes))
    }
}
