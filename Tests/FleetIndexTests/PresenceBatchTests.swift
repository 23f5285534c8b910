// Presence batches: a batch ingested whole (a few statements on PostgreSQL, each carrying the
// batch in array parameters) gives the outcomes and the state that ingesting its events one
// after another gives, on both backends: several events of one client in any order,
// duplicates within the batch and against the history, connect_failed, clients with and
// without a thing of their name, and clients new in the batch.
@testable import FleetIndex
import FleetTestSupport
import Testing

@Suite struct PresenceBatchTests {
    typealias E = LifecycleEvent
    static let t = Fixtures.t0

    static func ev(_ client: String, _ at: Int64, _ kind: E.Kind, session: String = "s1", version: Int64 = 1,
                   reason: String? = nil, principal: String? = nil, ip: String? = nil) -> E {
        E(clientId: client, timestamp: t + at, kind: kind, session: kind == .connectFailed ? "" : session,
          version: kind == .connectFailed ? 0 : version, principal: principal, ip: ip,
          reason: kind == .disconnected ? (reason ?? "CONNECTION_LOST") : reason,
          clientInitiated: kind == .disconnected ? (reason == "CLIENT_INITIATED_DISCONNECT") : nil)
    }

    /// One case: events stored before (one by one), the batch, and the batch's expected counts
    /// (accepted, duplicate, stale).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var before: [E] = []
        var batch: [E]
        var counts: (Int, Int, Int)
        var testDescription: String { name }
    }

    /// Things registered in every case: `a` and `b` (and `n1`, never seen as a client before);
    /// `u` and `n2` are clients without a thing.
    static let things = ["a", "b", "n1"]

    static let cases: [Case] = [
        Case(name: "several events of one client, in order",
             batch: [ev("a", 0, .connected), ev("a", 60_000, .disconnected), ev("a", 120_000, .connected, session: "s2", version: 2)],
             counts: (3, 0, 0)),
        Case(name: "several events of one client, newest first",
             batch: [ev("a", 120_000, .connected, session: "s2", version: 2), ev("a", 60_000, .disconnected), ev("a", 0, .connected)],
             counts: (1, 0, 2)),
        Case(name: "a disconnect and a connect of one session in the same millisecond, either order",
             batch: [ev("a", 0, .disconnected, version: 7), ev("a", 0, .connected, version: 7), ev("b", 0, .connected, version: 7),
                     ev("b", 0, .disconnected, version: 7)],
             counts: (3, 0, 1)),
        Case(name: "a session taken over, the old session's late disconnect arriving before the new connect",
             batch: [ev("a", 0, .connected, session: "x", version: 5), ev("a", 61_000, .disconnected, session: "x", version: 5, reason: "DUPLICATE_CLIENTID"),
                     ev("a", 60_000, .connected, session: "y", version: 6), ev("a", 62_000, .disconnected, session: "x", version: 5)],
             counts: (3, 0, 1)),
        Case(name: "duplicates within the batch (the first one's other fields are kept)",
             batch: [ev("a", 0, .connected, principal: "p1", ip: "10.0.0.1"), ev("a", 0, .connected, principal: "p2", ip: "10.0.0.2"),
                     ev("u", 5, .disconnected), ev("u", 5, .disconnected), ev("u", 5, .disconnected)],
             counts: (2, 3, 0)),
        Case(name: "duplicates of the stored history",
             before: [ev("a", 0, .connected), ev("u", 0, .connected)],
             batch: [ev("a", 0, .connected), ev("a", 30_000, .disconnected), ev("u", 0, .connected), ev("a", 30_000, .disconnected)],
             counts: (1, 3, 0)),
        Case(name: "stale against the stored mark",
             before: [ev("a", 100_000, .connected, session: "s2", version: 5)],
             batch: [ev("a", 0, .disconnected, session: "s1", version: 4), ev("a", 50_000, .connected, session: "s0", version: 3)],
             counts: (0, 0, 2)),
        Case(name: "connect_failed: history and the newest timestamp only",
             before: [ev("b", 0, .connected)],
             batch: [ev("a", 5_000, .connectFailed, reason: "AUTHORIZATION_FAILED"), ev("a", 0, .connected), ev("u", 1, .connectFailed),
                     ev("u", 1, .connectFailed), ev("b", 90_000, .connectFailed), ev("n2", 3, .connectFailed, reason: "THROTTLED")],
             counts: (5, 1, 0)),
        Case(name: "clients new in the batch, with and without a thing, next to known ones",
             before: [ev("a", 0, .connected), ev("u", 0, .connected)],
             batch: [ev("n2", 10, .connected), ev("n1", 20, .connected), ev("a", 30, .disconnected), ev("n1", 40, .disconnected),
                     ev("u", 50, .disconnected), ev("n2", 10, .connected), ev("b", 60, .connected)],
             counts: (6, 1, 0)),
        Case(name: "odd text in sessions, reasons and principals",
             batch: [ev("a", 0, .connected, session: "s,\"{q}\"\\ NULL é", principal: "", ip: "NULL"),
                     ev("a", 10, .disconnected, session: "s,\"{q}\"\\ NULL é", reason: "CLIENT_INITIATED_DISCONNECT", principal: "{}"),
                     ev("u", 0, .connectFailed, reason: "a \"b\", {c}\\"), ev("u", 0, .connectFailed, reason: "other")],
             counts: (3, 1, 0)),
    ]

    /// A database with the things registered and, with `groups`, a dynamic group (so that
    /// connectivity changes are tracked in thing_touch).
    static func database(_ backend: Backend, groups: Bool) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        for name in things { _ = try Registry(db).createThing(name: name, typeName: nil, attributes: nil, at: 0) }
        if groups {
            _ = try DynamicGroups(db).createDynamicThingGroup(name: "Lost", query: "connectivity.connected:false", indexName: nil,
                                                              queryVersion: nil, properties: nil, at: 0)
        }
        return db
    }

    /// Everything ingest writes, by name (ids differ between the engines): clients, things,
    /// the history and the change log.
    static func state(_ db: FleetDatabase) throws -> [String] {
        let c = db.connection
        let clients = try c.query("""
            SELECT client_id, (SELECT name FROM thing WHERE thing.id = client.thing), connected, ts, event_type, session, version, reason, max_ts
            FROM client
            """) { r in "client \(r.text(0)) thing=\(r.optionalText(1) ?? "-") connected=\(r.int(2)) ts=\(r.optionalInt(3).map(String.init) ?? "-") type=\(r.optionalInt(4).map(String.init) ?? "-") session=\(r.optionalText(5) ?? "-") v=\(r.optionalInt(6).map(String.init) ?? "-") reason=\(r.optionalText(7) ?? "-") max=\(r.optionalInt(8).map(String.init) ?? "-")" }
        let things = try c.query("SELECT name, connected, conn_ts, disconnect_reason FROM thing") { r in
            "thing \(r.text(0)) connected=\(r.int(1)) ts=\(r.optionalInt(2).map(String.init) ?? "-") reason=\(r.optionalText(3) ?? "-")"
        }
        let events = try c.query("""
            SELECT client.client_id, e.ts, e.type, e.session, e.version, e.reason, e.principal, e.ip, e.client_initiated
            FROM presence_event e JOIN client ON client.id = e.client
            """) { r in
            "event \(r.text(0)) \(r.int(1)) \(r.int(2)) \(r.text(3)) \(r.int(4)) \(r.optionalText(5) ?? "-") \(r.optionalText(6) ?? "-") \(r.optionalText(7) ?? "-") \(r.optionalInt(8).map(String.init) ?? "-")"
        }
        let touched = try c.query("SELECT thing.name FROM thing_touch JOIN thing ON thing.id = thing_touch.thing") { "touched \($0.text(0))" }
        return (clients + things + events + touched).sorted()
    }

    /// The clients in the order the engine numbered them (`arrivalOrder`).
    static func arrival(_ db: FleetDatabase) throws -> [String] {
        try db.connection.query("SELECT client_id FROM client ORDER BY \(db.connection.dialect.arrivalOrder)") { $0.text(0) }
    }

    enum Path: CaseIterable { case oneByOne, batch, runnerOrder }

    /// Ingests the case's history one event at a time, then its batch along `path`; returns
    /// the batch's outcomes and the state after.
    static func run(_ k: Case, _ backend: Backend, _ path: Path, groups: Bool = true) throws -> ([Presence.Outcome], [String], [String]) {
        let db = try database(backend, groups: groups)
        let p = Presence(db)
        try db.transaction { for e in k.before { _ = try p.ingest(e) } }
        try db.connection.execute("DELETE FROM thing_touch")
        let outcomes: [Presence.Outcome] = try db.transaction {
            switch path {
            case .oneByOne: return try k.batch.map { try p.ingest($0) }
            case .batch: return try p.ingest(batch: k.batch, clientOrder: .sorted)
            case .runnerOrder: return try p.ingest(batch: k.batch, clientOrder: .arrival)
            }
        }
        return (outcomes, try state(db), try arrival(db))
    }

    static func counts(_ o: [Presence.Outcome]) -> (Int, Int, Int) {
        (o.filter { $0 == .accepted }.count, o.filter { $0 == .duplicate }.count, o.filter { $0 == .stale }.count)
    }

    @Test(arguments: Backend.allCases, cases)
    func aBatchIsItsEventsOneAfterAnother(_ backend: Backend, _ k: Case) throws {
        let (o1, s1, a1) = try Self.run(k, backend, .oneByOne)
        #expect(Self.counts(o1) == k.counts, "one by one")
        for path in [Path.batch, .runnerOrder] {
            let (o, s, a) = try Self.run(k, backend, path)
            #expect(o == o1, "\(path): the outcome of each event")
            #expect(s == s1, "\(path): clients, things, history and change log")
            // The runner's order numbers new clients as one event after another does.
            if path == .runnerOrder { #expect(a == a1) } else { #expect(Set(a) == Set(a1)) }
        }
        // Without a dynamic group nothing is tracked, and the rest is the same.
        let (o, s, _) = try Self.run(k, backend, .batch, groups: false)
        #expect(o == o1 && s == s1.filter { !$0.hasPrefix("touched ") })
    }

    /// The engines agree (by name: ids differ), case by case.
    @Test(arguments: cases)
    func theEnginesAgree(_ k: Case) throws {
        let (o1, s1, _) = try Self.run(k, .sqlite, .batch)
        let (o2, s2, _) = try Self.run(k, .postgres, .batch)
        #expect(o1 == o2 && s1 == s2)
    }

    /// Random histories of a few clients with duplicates and disorder, split into batches of
    /// several sizes, against one event after another.
    @Test(arguments: Backend.allCases, [1, 2, 3])
    func randomBatches(_ backend: Backend, _ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let clients = ["a", "b", "n1", "n2", "u"]
        var events: [E] = []
        for _ in 0..<120 {
            let c = clients[Int(rng.next() % UInt64(clients.count))]
            let v = Int64(rng.next() % 4)
            let at = Int64(rng.next() % 20) * 30_000
            let kind: E.Kind = [.connected, .disconnected, .connected, .disconnected, .connectFailed][Int(rng.next() % 5)]
            events.append(Self.ev(c, at, kind, session: "s\(v % 2)", version: v))
        }
        events += events.prefix(30)
        events.shuffle(using: &rng)
        let reference = try Self.run(Case(name: "random", batch: events, counts: (0, 0, 0)), backend, .oneByOne)
        for size in [7, 50, events.count] {
            let db = try Self.database(backend, groups: true)
            let p = Presence(db)
            try db.connection.execute("DELETE FROM thing_touch")
            var outcomes: [Presence.Outcome] = []
            var i = 0
            while i < events.count {
                let chunk = Array(events[i..<min(i + size, events.count)])
                outcomes += try db.transaction { try p.ingest(batch: chunk, clientOrder: .arrival) }
                i += size
            }
            #expect(outcomes == reference.0, "batches of \(size)")
            #expect(try Self.state(db) == reference.1, "batches of \(size)")
            #expect(try Self.arrival(db) == reference.2, "batches of \(size)")
        }
    }

    /// The file intake (`ingest-events`) in batches: the same counts and state as one by one,
    /// and its rejected lines.
    @Test(arguments: Backend.allCases)
    func theLineIntakeInBatches(_ backend: Backend) throws {
        let k = Self.cases[8]
        let lines = k.batch.map { $0.payload.compact } + [#"{"clientId":"a","timestamp":1,"eventType":"exploded"}"#] + k.before.map { $0.payload.compact }
        let input = Array(lines.joined(separator: "\n").utf8)
        var reference: (Presence.Summary, [String])? = nil
        for size in [1, 2, 5000] {
            let db = try Self.database(backend, groups: true)
            var rejected: [Int] = []
            let s = try Presence(db).ingest(LineReader(bytes: input), batch: size, rejected: { n, _ in rejected.append(n) })
            #expect(rejected == [k.batch.count + 1])
            let st = try Self.state(db)
            if let reference {
                #expect(s == reference.0 && st == reference.1, "batches of \(size)")
            } else {
                reference = (s, st)
                #expect(s.accepted == 6 && s.duplicate == 1 && s.stale == 2 && s.rejected == 1, "\(s)")
            }
        }
    }
}
