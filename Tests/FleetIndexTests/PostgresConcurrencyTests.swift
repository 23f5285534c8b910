// Several writers on one PostgreSQL database, as several fleetdex processes or serve instances
// are: each worker has a connection of its own (a process of its own, as far as PostgreSQL
// can tell), and they run at once. No lost update of a client's connectivity, no violation
// raised twice, no tick skipped.
import Dispatch
import FleetIndex
import Foundation
import Synchronization
import Testing

@Suite struct PostgresConcurrencyTests {
    let t0 = Fixtures.t0
    let min: Int64 = 60_000

    /// Runs `body(worker)` on `workers` threads at once; the errors they threw.
    static func concurrently(_ workers: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
        let errors = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            do { try body(w) } catch { errors.withLock { $0.append("worker \(w): \(error)") } }
        }
        return errors.withLock { $0 }
    }

    /// `events` as `ingest-events` takes them: one batch in a transaction of its own (the
    /// write lock shared with other batches, the clients' rows locked).
    static func ingestBatch(_ db: FleetDatabase, _ events: [LifecycleEvent]) throws {
        let text = events.map { $0.payload.compact }.joined(separator: "\n")
        let summary = try Presence(db).ingest(LineReader(bytes: Array(text.utf8)), batch: events.count, rejected: { _, m in Issue.record("\(m)") })
        #expect(summary.rejected == 0)
    }

    /// Eight ingesters interleave batches of events of the same three clients (things, with a
    /// dynamic group tracking their changes), and each batch also brings a client never seen
    /// that every worker registers at once: every event is stored, each client and its thing
    /// end with its newest event's connectivity, as when one ingester had them all, and each
    /// new client is registered once.
    @Test func ingestersOfTheSameClientsLoseNoUpdate() throws {
        let db = try Fixtures.database(.postgres)
        for c in 0..<3 { _ = try Registry(db).createThing(name: "c\(c)", typeName: nil, attributes: nil, at: 0) }
        _ = try DynamicGroups(db).createDynamicThingGroup(name: "G", query: "connectivity.connected:true", indexName: nil, queryVersion: nil, properties: nil, at: 0)
        let url = db.connection.location
        let workers = 8, perWorker = 240, clients = 3, batch = 24
        let errors = Self.concurrently(workers) { w in
            let mine = try FleetDatabase(path: url)
            // Batches of a few events of every client: each transaction reads and rewrites
            // the clients' rows while the other workers do the same.
            for k in stride(from: 0, to: perWorker, by: batch) {
                let events = (k..<k + batch).map { k -> LifecycleEvent in
                    let n = k * workers + w   // a global order of the events
                    let kind: LifecycleEvent.Kind = n % 2 == 0 ? .connected : .disconnected
                    return Fixtures.event("c\(n % clients)", Fixtures.t0 + Int64(n) * 1000, kind, session: "s\(n)", version: Int64(n + 1))
                }
                // The same new client in every worker's k-th batch (a connect each, told apart by session).
                let new = Fixtures.event("new\(k)", Fixtures.t0, .connected, session: "w\(w)")
                try Self.ingestBatch(mine, events + [new])
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        let newClients = perWorker / batch
        #expect(try db.connection.scalar("SELECT count(*) FROM presence_event")?.int == Int64(workers * perWorker + workers * newClients))
        #expect(try db.connection.scalar("SELECT count(*) FROM client")?.int == Int64(clients + newClients))
        let total = workers * perWorker
        for c in 0..<clients {
            let newest = (0..<total).filter { $0 % clients == c }.max()!
            let row = try db.connection.query("SELECT connected, ts FROM client WHERE client_id = ?", ["c\(c)"]) { ($0.bool(0), $0.int(1)) }.first
            #expect(row?.0 == (newest % 2 == 0) && row?.1 == Fixtures.t0 + Int64(newest) * 1000, "c\(c): \(String(describing: row))")
            // The thing's connectivity, as search reads it.
            #expect(try Fixtures.search(db, "thingName:c\(c) AND connectivity.connected:\(newest % 2 == 0)") == ["c\(c)"])
        }
        // Every thing whose connectivity changed is in the dynamic group's change log.
        #expect(try db.connection.scalar("SELECT count(*) FROM thing_touch")?.int == Int64(clients))
    }

    /// Ingest batches of different clients run at the same time: while one batch's transaction
    /// is open, a batch of other clients commits; a batch of a client the open one holds waits
    /// for it, and so does every other writer (a new thing, an evaluation). Once the open
    /// batch commits they go through, and each client has its newest event.
    @Test func ingestBatchesOfOtherClientsRunAtOnce() throws {
        let db = try Fixtures.database(.postgres)
        for t in ["a", "b"] { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        try Self.ingestBatch(db, [Fixtures.event("a", t0, .connected), Fixtures.event("b", t0, .connected)])
        let url = db.connection.location
        let holder = try FleetDatabase(path: url)
        try holder.connection.beginIngest()
        _ = try Presence(holder).ingest(Fixtures.event("a", t0 + min, .disconnected, version: 2))
        let other = try FleetDatabase(path: url)
        // A wait this long means the open batch blocks it.
        try other.connection.execute(script: "SET lock_timeout = '2s'")
        try Self.ingestBatch(other, [Fixtures.event("b", t0 + min, .disconnected, version: 2), Fixtures.event("c", t0 + min, .connected)])
        func lockTimeout(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch { return "\(error)".contains("55P03") }
        }
        #expect(lockTimeout { try Self.ingestBatch(other, [Fixtures.event("a", t0 + 2 * min, .connected, session: "s2", version: 3)]) })
        #expect(lockTimeout { _ = try Registry(other).createThing(name: "d", typeName: nil, attributes: nil, at: 0) })
        #expect(lockTimeout { _ = try EvaluationCycle(other).evaluate(at: t0 + 5 * min) })
        // A batch with an older event of `a` waits for the open batch (without a timeout), then
        // reads what it wrote: the event is stale, and `a` keeps the newer disconnect.
        let latePid = Mutex<Int64?>(nil)
        let lateBatch = Mutex<Result<Presence.Summary, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let start = t0, minute = min
        Thread.detachNewThread {
            let r = Result {
                let late = try FleetDatabase(path: url)
                let pid = try late.connection.scalar("SELECT pg_backend_pid()")?.int
                latePid.withLock { $0 = pid }
                let text = Fixtures.event("a", start + minute / 2, .connected, session: "s0", version: 1).payload.compact
                return try Presence(late).ingest(LineReader(bytes: Array(text.utf8)), batch: 10, rejected: { _, _ in })
            }
            lateBatch.withLock { $0 = r }
            done.signal()
        }
        var waiting = false
        for _ in 0..<1000 where !waiting {
            if let pid = latePid.withLock({ $0 }) {
                waiting = try db.connection.scalar("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", [pid])?.string == "Lock"
            }
            if !waiting { usleep(10_000) }
        }
        #expect(waiting, "the older batch of a waits for the open one")
        try holder.connection.execute(script: "COMMIT")
        done.wait()
        #expect(try lateBatch.withLock { try $0?.get().stale } == 1)
        #expect(try db.connection.scalar("SELECT ts FROM client WHERE client_id = 'a'")?.int == t0 + min)
        try Self.ingestBatch(other, [Fixtures.event("a", t0 + 2 * min, .connected, session: "s2", version: 3)])
        _ = try Registry(other).createThing(name: "d", typeName: nil, attributes: nil, at: 0)
        let rows = try db.connection.query("SELECT client_id, connected, ts FROM client ORDER BY client_id") { "\($0.text(0)) \($0.bool(1)) \($0.int(2) - t0)" }
        #expect(rows == ["a true \(2 * min)", "b false \(min)", "c true \(min)"])
        #expect(try Fixtures.search(db, "connectivity.connected:true") == ["a"])
        #expect(try Fixtures.search(db, "connectivity.connected:false") == ["b", "d"])
    }

    /// Six evaluators run the same ticks at the same time: each thing's violation is raised
    /// once (one in-alarm event, one violation id), and every tick is evaluated once.
    @Test func evaluatorsAtOnceRaiseEachViolationOnce() throws {
        let db = try Fixtures.database(.postgres)
        let things = (0..<200).map { "d\($0)" }
        for t in things { _ = try Registry(db).createThing(name: t, typeName: nil, attributes: nil, at: 0) }
        _ = try Defender(db).createSecurityProfile(name: "P", description: nil, behaviors: Fixtures.behaviors(), alertTargets: nil, additionalMetrics: nil, at: 0)
        _ = try Defender(db).attachSecurityProfile(name: "P", targetARN: db.iotARN("all/things"))
        try Fixtures.ingest(db, things.flatMap { [Fixtures.event($0, t0, .connected), Fixtures.event($0, t0 + min, .disconnected)] })
        let url = db.connection.location
        let start = t0, minute = min
        let errors = Self.concurrently(6) { _ in
            let mine = try FleetDatabase(path: url)
            let cycle = EvaluationCycle(mine)
            for m in stride(from: 5, through: 30, by: 5) { _ = try cycle.evaluate(at: start + Int64(m) * minute) }
        }
        #expect(errors.isEmpty, "\(errors)")
        let events = try DefenderTests.listedEvents(db)
        let inAlarm = events.filter { $0["violationEventType"]?.stringValue == "in-alarm" }
        #expect(inAlarm.count == things.count)
        #expect(Set(inAlarm.compactMap { $0["thingName"]?.stringValue }) == Set(things))
        #expect(Set(events.compactMap { $0["violationId"]?.stringValue }).count == things.count)
        #expect(try db.connection.scalar("SELECT count(*) FROM evaluated_tick")?.int == 6)
    }
}
