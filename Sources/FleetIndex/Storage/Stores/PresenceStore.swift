// FleetIndex storage: MQTT clients (`client`: the newest connectivity mark of each), their
// lifecycle event history (`presence_event`) and the connectivity columns of their things.
import FleetPostgres
import FleetSQLite
import FleetStorage

extension PresenceMark {
    /// The mark in the five columns from `i` on: `ts, event_type, session, version, reason`
    /// (nil when `ts` is NULL), its timestamp passed through `timestamp`.
    init?(row s: StoreRow, from i: Int, timestamp: (Int64) -> Int64 = { $0 }) {
        guard !s.isNull(i) else { return nil }
        self.init(timestamp: timestamp(s.int(i)), kind: LifecycleEvent.Kind(rawValue: s.int(i + 1)) ?? .connected,
                  session: s.text(i + 2), version: s.int(i + 3), reason: s.optionalText(i + 4))
    }
}

/// A client as ingest reads it: its thing and its current connectivity mark.
struct ClientRecord {
    var id: Int64
    var thing: Int64?
    var mark: PresenceMark?
    var maxTs: Int64?

    /// Columns: `id, thing, ts, event_type, session, version, reason, max_ts`.
    init(row s: StoreRow) {
        id = s.int(0)
        thing = s.optionalInt(1)
        mark = PresenceMark(row: s, from: 2)
        maxTs = s.optionalInt(7)
    }

    init(id: Int64, thing: Int64?) { (self.id, self.thing, mark, maxTs) = (id, thing, nil, nil) }
}

/// Clients, lifecycle history and connectivity.
struct PresenceStore {
    let c: StoreConnection
    private static let insertEventSQL = """
        INSERT INTO presence_event(client, ts, type, session, version, reason, principal, ip, client_initiated)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
        """

    func client(_ clientId: String) throws -> ClientRecord? {
        let s = try c.prepare("SELECT id, thing, ts, event_type, session, version, reason, max_ts FROM client WHERE client_id = ?")
        try s.bind([.text(clientId)])
        defer { s.reset() }
        return try s.step() ? ClientRecord(row: s.row) : nil
    }

    /// Registers a client never seen before, linked to the thing of the same name if any.
    func insertClient(_ clientId: String) throws -> ClientRecord {
        let thing = try c.scalar("SELECT id FROM thing WHERE name = ?", [clientId])?.int
        let (sql, binds) = c.keyedInsert(into: "client", keyColumn: "id", name: clientId, columns: "client_id, thing", values: "?, ?",
                                         [clientId, thing], suffix: " RETURNING id")
        let id = try c.scalar(sql, binds)?.int ?? 0
        return ClientRecord(id: id, thing: thing)
    }

    /// Stores one event in the history; false when it was there already (a duplicate).
    func insertEvent(client: Int64, _ e: LifecycleEvent) throws -> Bool {
        let insert = try c.prepare(Self.insertEventSQL)
        try insert.bind([.integer(client), .integer(e.timestamp), .integer(e.kind.rawValue), .text(e.session), .integer(e.version),
                         e.reason.map(SQLiteValue.text) ?? .null, e.principal.map(SQLiteValue.text) ?? .null,
                         e.ip.map(SQLiteValue.text) ?? .null, e.clientInitiated.map { .integer($0 ? 1 : 0) } ?? .null])
        try insert.step()
        return c.changes > 0
    }

    // MARK: batches (ingest): per row on SQLite, a few statements with array parameters on PostgreSQL

    /// The stored clients among `ids`, by client id (the ones not stored are absent). On
    /// PostgreSQL each row is locked for the rest of the transaction, in key order: ingest
    /// batches that run at once wait for each other only on the clients they share, then read
    /// what the other wrote, and, each locking in the same order, never deadlock.
    func clients(_ ids: [String]) throws -> [String: ClientRecord] {
        var out: [String: ClientRecord] = [:]
        out.reserveCapacity(ids.count)
        guard !ids.isEmpty else { return out }
        if c.dialect.writesBatchesAsArrays {
            try c.forEach("""
                SELECT id, thing, ts, event_type, session, version, reason, max_ts, client_id FROM client
                WHERE client_id = ANY(?::text[]) ORDER BY id FOR NO KEY UPDATE
                """, [PostgresArray.literal(ids)]) { out[$0.text(8)] = ClientRecord(row: $0) }
            return out
        }
        // In key order: the lookups then walk the client_id index instead of jumping around it.
        for id in ids.sorted() { if let r = try client(id) { out[id] = r } }
        return out
    }

    /// The stored clients among `ids` (each named once) and the ones never seen before, now
    /// registered (each linked to the thing of the same name if any, numbered in the order of
    /// `ids`: the order `arrivalOrder` numbers them in), each by client id. SQLite (one
    /// writer): looked up, then the rest inserted one by one. PostgreSQL, where ingest batches
    /// run at once: the new ones registered first, in one statement (`registerClientsSQL`: in
    /// key order, as every batch inserts them, so the only rows it waits for are new ones
    /// another batch is registering, and a client two batches register is stored once, the
    /// second reading it afterwards), then the stored ones read and locked in key order
    /// (`clients`). Each batch takes its waits in the same order, so none deadlock.
    func clientRecords(_ ids: [String]) throws -> (stored: [String: ClientRecord], added: [String: ClientRecord]) {
        guard !ids.isEmpty, c.dialect.writesBatchesAsArrays, let key = c.dialect.nameKey(of: "u.name") else {
            let stored = try clients(ids)
            var added: [String: ClientRecord] = [:]
            for id in ids where stored[id] == nil { added[id] = try insertClient(id) }
            return (stored, added)
        }
        var added: [String: ClientRecord] = [:]
        added.reserveCapacity(ids.count)
        try c.forEach(Self.registerClientsSQL(key: key), [PostgresArray.literal(ids)]) {
            added[$0.text(2)] = ClientRecord(id: $0.int(0), thing: $0.optionalInt(1))
        }
        return (try clients(ids.filter { added[$0] == nil }), added)
    }

    /// The clients of the text array `?` not stored yet, inserted in key order and numbered in
    /// the array's order, from as many values of `seq`'s sequence taken at once; RETURNING the
    /// inserted. `key`: the key of a client id `u.name`.
    private static func registerClientsSQL(key: String) -> String {
        """
        WITH k AS MATERIALIZED (
            SELECT \(key) AS id, u.name, u.n FROM unnest(?::text[]) WITH ORDINALITY AS u(name, n)
            WHERE NOT EXISTS (SELECT 1 FROM client AS c WHERE c.id = \(key))),
        s AS MATERIALIZED (SELECT array_agg(v ORDER BY v) AS vs
              FROM (SELECT nextval(pg_get_serial_sequence('client', 'seq')) AS v FROM k) AS q),
        o AS MATERIALIZED (SELECT k.id, k.name, row_number() OVER (ORDER BY k.n) AS r FROM k)
        INSERT INTO client(id, client_id, thing, seq) OVERRIDING SYSTEM VALUE
        SELECT o.id, o.name, (SELECT t.id FROM thing t WHERE t.name = o.name LIMIT 1), s.vs[o.r]
        FROM o CROSS JOIN s ORDER BY o.id
        ON CONFLICT (id) DO NOTHING
        RETURNING id, thing, client_id
        """
    }

    /// An event as the history keys it (presence_event's primary key).
    struct EventKey: Hashable {
        var client: Int64
        var ts: Int64
        var type: Int64
        var session: String
        var version: Int64
    }

    private static let insertEventsSQL = """
        INSERT INTO presence_event(client, ts, type, session, version, reason, principal, ip, client_initiated)
        SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::boolean[])
        ON CONFLICT DO NOTHING RETURNING client, ts, type, session, version
        """

    /// Stores events in the history, in order; for each, whether it is new: false when it was
    /// stored already or repeats an earlier one of `events` (the first is the one kept), as
    /// `insertEvent` one after another says.
    func insertEvents(_ events: [(client: Int64, event: LifecycleEvent)]) throws -> [Bool] {
        guard c.dialect.writesBatchesAsArrays else { return try events.map { try insertEvent(client: $0.client, $0.event) } }
        guard !events.isEmpty else { return [] }
        // A key repeated within the batch is a duplicate whatever is stored: the statement
        // gets each key once (its first event), and RETURNING names the ones it stored.
        var firstOf: [EventKey: Int] = [:]
        firstOf.reserveCapacity(events.count)
        var sent: [Int] = []
        sent.reserveCapacity(events.count)
        for (i, x) in events.enumerated() {
            let e = x.event
            let key = EventKey(client: x.client, ts: e.timestamp, type: e.kind.rawValue, session: e.session, version: e.version)
            if firstOf[key] == nil {
                firstOf[key] = i
                sent.append(i)
            }
        }
        let rows = sent.map { events[$0] }
        let binds: [any SQLiteBindable] = [
            PostgresArray.literal(rows.map(\.client)),
            PostgresArray.literal(rows.map(\.event.timestamp)),
            PostgresArray.literal(rows.map(\.event.kind.rawValue)),
            PostgresArray.literal(rows.map(\.event.session)),
            PostgresArray.literal(rows.map(\.event.version)),
            PostgresArray.literal(rows.map(\.event.reason)),
            PostgresArray.literal(rows.map(\.event.principal)),
            PostgresArray.literal(rows.map(\.event.ip)),
            PostgresArray.literal(rows.map(\.event.clientInitiated)),
        ]
        var isNew = [Bool](repeating: false, count: events.count)
        try c.forEach(Self.insertEventsSQL, binds) {
            let key = EventKey(client: $0.int(0), ts: $0.int(1), type: $0.int(2), session: $0.text(3), version: $0.int(4))
            if let i = firstOf[key] { isNew[i] = true }
        }
        return isNew
    }

    /// A client's row as a batch writes it back: a new mark (with the newest timestamp) or,
    /// with `mark` nil, only the newest timestamp; a new mark sets its thing's connectivity.
    struct ConnectivityUpdate {
        var client: Int64
        var thing: Int64?
        var mark: PresenceMark?
        var maxTs: Int64?
    }

    private static let setMarksSQL = """
        UPDATE client SET connected = u.connected, ts = u.ts, event_type = u.event_type, session = u.session, version = u.version,
            reason = u.reason, max_ts = u.max_ts
        FROM unnest(?::bigint[], ?::boolean[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::bigint[])
            AS u(id, connected, ts, event_type, session, version, reason, max_ts)
        WHERE client.id = u.id
        """
    private static let setMaxTsSQL = "UPDATE client SET max_ts = u.max_ts FROM unnest(?::bigint[], ?::bigint[]) AS u(id, max_ts) WHERE client.id = u.id"
    private static let setConnectivitySQL = """
        UPDATE thing SET connected = u.connected, conn_ts = u.ts, disconnect_reason = u.reason
        FROM unnest(?::bigint[], ?::boolean[], ?::bigint[], ?::text[]) AS u(id, connected, ts, reason)
        WHERE thing.id = u.id
        """

    /// Writes a batch's clients back (each client once, in the order given: the stores sweep
    /// the tables in key order when it is the clients' id order), and their things'
    /// connectivity from their new marks. Returns the things whose connectivity was written.
    func write(_ updates: [ConnectivityUpdate]) throws -> [Int64] {
        var things: [Int64] = []
        guard c.dialect.writesBatchesAsArrays else {
            let writer = try connectivityWriter()
            for u in updates {
                if let m = u.mark {
                    try writer.setMark(client: u.client, m, maxTs: u.maxTs)
                    if let t = u.thing {
                        try writer.setConnectivity(thing: t, m)
                        things.append(t)
                    }
                } else {
                    try writer.setMaxTs(client: u.client, u.maxTs)
                }
            }
            return things
        }
        let marks = updates.compactMap { u in u.mark.map { (u, $0) } }
        if !marks.isEmpty {
            try c.execute(Self.setMarksSQL, [
                PostgresArray.literal(marks.map(\.0.client)),
                PostgresArray.literal(marks.map(\.1.connected)),
                PostgresArray.literal(marks.map(\.1.timestamp)),
                PostgresArray.literal(marks.map(\.1.kind.rawValue)),
                PostgresArray.literal(marks.map(\.1.session)),
                PostgresArray.literal(marks.map(\.1.version)),
                PostgresArray.literal(marks.map(\.1.reason)),
                PostgresArray.literal(marks.map(\.0.maxTs)),
            ])
        }
        let maxOnly = updates.filter { $0.mark == nil }
        if !maxOnly.isEmpty {
            try c.execute(Self.setMaxTsSQL, [PostgresArray.literal(maxOnly.map(\.client)), PostgresArray.literal(maxOnly.map(\.maxTs))])
        }
        // A thing once (an UPDATE ... FROM would apply one of its rows, unsaid which): the
        // last of the batch's clients, as writing them one after another leaves it.
        var last: [Int64: Int] = [:]
        var order: [Int64] = []
        for (i, (u, _)) in marks.enumerated() {
            guard let t = u.thing else { continue }
            if last.updateValue(i, forKey: t) == nil { order.append(t) }
        }
        if !order.isEmpty {
            let rows = order.map { marks[last[$0]!].1 }
            try c.execute(Self.setConnectivitySQL, [
                PostgresArray.literal(order),
                PostgresArray.literal(rows.map(\.connected)),
                PostgresArray.literal(rows.map(\.timestamp)),
                PostgresArray.literal(rows.map { $0.connected ? nil : $0.reason }),
            ])
        }
        return order
    }

    /// The statements that write a batch of clients back one by one, prepared once per batch.
    func connectivityWriter() throws -> ConnectivityWriter { try ConnectivityWriter(c) }

    struct ConnectivityWriter {
        let client, maxOnly, thing: StoreStatement
        init(_ c: StoreConnection) throws {
            client = try c.prepare("UPDATE client SET connected = ?, ts = ?, event_type = ?, session = ?, version = ?, reason = ?, max_ts = ? WHERE id = ?")
            maxOnly = try c.prepare("UPDATE client SET max_ts = ? WHERE id = ?")
            thing = try c.prepare("UPDATE thing SET connected = ?, conn_ts = ?, disconnect_reason = ? WHERE id = ?")
        }

        /// A client's new mark (and newest timestamp).
        func setMark(client id: Int64, _ m: PresenceMark, maxTs: Int64?) throws {
            try client.bind([.integer(m.connected ? 1 : 0), .integer(m.timestamp), .integer(m.kind.rawValue), .text(m.session), .integer(m.version),
                             m.reason.map(SQLiteValue.text) ?? .null, maxTs.map(SQLiteValue.integer) ?? .null, .integer(id)])
            try client.step()
        }

        /// A thing's connectivity from its client's mark.
        func setConnectivity(thing id: Int64, _ m: PresenceMark) throws {
            try thing.bind([.integer(m.connected ? 1 : 0), .integer(m.timestamp), m.connected ? .null : (m.reason.map(SQLiteValue.text) ?? .null), .integer(id)])
            try thing.step()
        }

        /// Only a client's newest timestamp.
        func setMaxTs(client id: Int64, _ maxTs: Int64?) throws {
            try maxOnly.bind([maxTs.map(SQLiteValue.integer) ?? .null, .integer(id)])
            try maxOnly.step()
        }
    }

    /// A client's events with timestamps in [from, through], as connectivity marks.
    func events(client: Int64, from: Int64, through: Int64) throws -> [PresenceMark] {
        try c.query("SELECT ts, type, session, version, reason FROM presence_event WHERE client = ? AND ts >= ? AND ts <= ?",
                    [client, from, through]) { PresenceMark(row: $0, from: 0) }.compactMap { $0 }
    }
}
