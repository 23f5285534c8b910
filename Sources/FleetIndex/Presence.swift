// FleetIndex: presence: lifecycle events in, connectivity out. Every event is kept in the
// history (duplicates are recognized by their key); the newest event of each client decides
// its connectivity, so the final state does not depend on arrival order.
import FleetSQLite

/// Lifecycle event ingestion and the connectivity index.
public struct Presence {
    public let db: FleetDatabase
    var c: Connection { db.connection }
    public init(_ db: FleetDatabase) { self.db = db }

    public enum Outcome: Equatable { case accepted, duplicate, stale }

    /// Counts of one ingest run.
    public struct Summary: Equatable {
        public var accepted = 0
        public var duplicate = 0
        public var stale = 0
        public var rejected = 0
        public init() {}
        public mutating func add(_ o: Outcome) {
            switch o {
            case .accepted: accepted += 1
            case .duplicate: duplicate += 1
            case .stale: stale += 1
            }
        }
    }

    struct ClientRow {
        var id: Int64
        var thing: Int64?
        var mark: PresenceMark?
    }

    func client(_ clientId: String) throws -> ClientRow {
        let s = try c.prepare("SELECT id, thing, ts, event_type, session, version, reason FROM client WHERE client_id = ?")
        try s.bind([.text(clientId)])
        defer { s.reset() }
        if try s.step() {
            let mark = s.isNull(2) ? nil : PresenceMark(timestamp: s.int(2), kind: LifecycleEvent.Kind(rawValue: s.int(3)) ?? .connected,
                                                        session: s.text(4), version: s.int(5), reason: s.optionalText(6))
            return ClientRow(id: s.int(0), thing: s.optionalInt(1), mark: mark)
        }
        s.reset()
        let thing = try c.scalar("SELECT id FROM thing WHERE name = ?", [clientId])?.int
        try c.execute("INSERT INTO client(client_id, thing) VALUES (?, ?)", [clientId, thing])
        return ClientRow(id: c.lastInsertRowID, thing: thing, mark: nil)
    }

    /// Ingests one event (inside the caller's transaction).
    public func ingest(_ e: LifecycleEvent) throws -> Outcome {
        let row = try client(e.clientId)
        let insert = try c.prepare("""
            INSERT OR IGNORE INTO presence_event(client, ts, type, session, version, reason, principal, ip, client_initiated)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.bind([.integer(row.id), .integer(e.timestamp), .integer(e.kind.rawValue), .text(e.session), .integer(e.version),
                         e.reason.map(SQLiteValue.text) ?? .null, e.principal.map(SQLiteValue.text) ?? .null,
                         e.ip.map(SQLiteValue.text) ?? .null, e.clientInitiated.map { .integer($0 ? 1 : 0) } ?? .null])
        try insert.step()
        if c.changes == 0 { return .duplicate }
        try c.execute("UPDATE client SET max_ts = max(coalesce(max_ts, ?), ?) WHERE id = ?", [e.timestamp, e.timestamp, row.id])
        if e.kind == .connectFailed { return .accepted }
        let mark = PresenceMark(timestamp: e.timestamp, kind: e.kind, session: e.session, version: e.version, reason: e.reason)
        if let current = row.mark, !mark.isNewer(than: current) { return .stale }
        try c.execute("UPDATE client SET connected = ?, ts = ?, event_type = ?, session = ?, version = ?, reason = ? WHERE id = ?",
                      [mark.connected, e.timestamp, e.kind.rawValue, e.session, e.version, e.reason, row.id])
        if let thing = row.thing {
            try c.execute("UPDATE thing SET connected = ?, conn_ts = ?, disconnect_reason = ? WHERE id = ?",
                          [mark.connected, e.timestamp, mark.connected ? nil : e.reason, thing])
        }
        return .accepted
    }

    /// Ingests a stream of JSON Lines (or one JSON array), committing every `batch` events
    /// so that an event counted as accepted is on disk. `rejected` is called for each bad line.
    public func ingest(_ reader: LineReader, batch: Int = 5000, rejected: (Int, String) -> Void,
                       committed: (Summary) -> Void = { _ in }) throws -> Summary {
        var summary = Summary()
        var pending = 0
        try c.execute(script: "BEGIN IMMEDIATE")
        func commit() throws {
            try c.execute(script: "COMMIT")
            committed(summary)
            try c.execute(script: "BEGIN IMMEDIATE")
            pending = 0
        }
        do {
            func one(_ value: JSONValue, _ where_: Int) throws {
                do {
                    let e = try LifecycleEvent.parse(value)
                    summary.add(try ingest(e))
                    pending += 1
                    if pending >= batch { try commit() }
                } catch let err as FleetError {
                    summary.rejected += 1
                    rejected(where_, err.message)
                }
            }
            if reader.peekFirstByte() == UInt8(ascii: "[") {
                let all = reader.readAll()
                let doc: JSONValue
                do { doc = try JSONValue.parse(bytes: all) } catch {
                    summary.rejected += 1
                    rejected(1, "malformed JSON array: \(error)")
                    try c.execute(script: "COMMIT")
                    return summary
                }
                for (i, v) in (doc.arrayValue ?? []).enumerated() { try one(v, i + 1) }
            } else {
                while let line = reader.next() {
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    let n = reader.lineNumber
                    let v: JSONValue
                    do { v = try JSONValue.parse(bytes: Array(line)) } catch {
                        summary.rejected += 1
                        rejected(n, "malformed JSON: \(error)")
                        continue
                    }
                    try one(v, n)
                }
            }
            try c.execute(script: "COMMIT")
            committed(summary)
        } catch {
            try? c.execute(script: "ROLLBACK")
            throw error
        }
        return summary
    }

    /// A simulated device's connect: the payload AWS would publish, ingested as any other.
    public func simulateConnect(thingName: String, clientId: String?, ip: String?, at now: Int64) throws -> (LifecycleEvent, Outcome) {
        try c.transaction {
            let cid = clientId ?? thingName
            let row = try client(cid)
            let last = row.mark
            // A new session; the version goes up, or back to 0 after an hour offline.
            let version: Int64
            if let last { version = (now - last.timestamp >= 3_600_000 && !last.connected) ? 0 : last.version + 1 } else { version = 1 }
            let e = LifecycleEvent(clientId: cid, timestamp: now, kind: .connected, session: FleetDatabase.uuid(), version: version,
                                   principal: Presence.principal(for: cid), ip: ip ?? "203.0.113.10")
            return (e, try ingest(e))
        }
    }

    /// A simulated device's disconnect of its current session.
    public func simulateDisconnect(thingName: String, clientId: String?, reason: String, at now: Int64) throws -> (LifecycleEvent, Outcome) {
        guard LifecycleEvent.disconnectReasons.contains(reason) else { throw FleetError.invalid("'\(reason)' is not an AWS disconnectReason") }
        return try c.transaction {
            let cid = clientId ?? thingName
            let row = try client(cid)
            guard let last = row.mark, last.connected else {
                throw FleetError.invalid("\(cid) is not connected: connect it first")
            }
            let e = LifecycleEvent(clientId: cid, timestamp: now, kind: .disconnected, session: last.session, version: last.version,
                                   principal: Presence.principal(for: cid), reason: reason,
                                   clientInitiated: reason == "CLIENT_INITIATED_DISCONNECT")
            return (e, try ingest(e))
        }
    }

    static func principal(for clientId: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in clientId.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        var out = ""
        for i in 0..<4 {
            let x = h &* UInt64(i * 2 + 1) &+ UInt64(i)
            let s = String(x, radix: 16)
            out += String(repeating: "0", count: 16 - s.count) + s
        }
        return out
    }
}
