// FleetIndex storage: MQTT clients (`client`: the newest connectivity mark of each), their
// lifecycle event history (`presence_event`) and the connectivity columns of their things.
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

    /// The statements that write a batch of clients back, prepared once per batch.
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
