// FleetIndex storage: violations and their events (`violation`, `violation_event`,
// `violation_behavior`), with the violationIds derived from row ids.
import FleetPostgres
import FleetSQLite
import FleetStorage

/// Violation events as stored (migration 0008): one `violation` row per alarm, whose
/// violationId is derived from its row id; one small `violation_event` row per event
/// (violation, type, time, value); the behavior's JSON once in `violation_behavior`.
///
/// The id: 128 bits, two halves `(row × K₁) ⊕ s₁` and `(row × K₂) ⊕ s₂` with the database's
/// random key (s₁, s₂) in `meta`. K₁, K₂ are odd, so the first half gives the row back and the
/// second checks it: ids look random, differ between databases and cost no storage.
final class ViolationStore {
    let db: FleetDatabase
    var c: StoreConnection { db.connection }
    init(_ db: FleetDatabase) { self.db = db }

    static let types = ["in-alarm", "alarm-cleared", "alarm-invalidated"]
    static let k1: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let k2: UInt64 = 0xBF58_476D_1CE4_E5B9
    static let k1Inverse: UInt64 = {
        var x = k1  // Newton's iteration: each step doubles the correct low bits
        for _ in 0..<6 { x = x &* (2 &- k1 &* x) }
        return x
    }()

    private static let insertBehavior = "INSERT INTO violation_behavior(profile, name, json) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

    private var raiseLastTime: String { "UPDATE violation SET last_time = " + c.dialect.greatest("last_time", "?") + " WHERE id = ?" }
    private var raiseLastTimeAndReason: String {
        "UPDATE violation SET last_time = " + c.dialect.greatest("last_time", "?") + ", invalidation_reason = ? WHERE id = ?"
    }
    /// PostgreSQL keeps an event beside its violation's client (its distribution column).
    private func insertEvent(row: Int64, client: Int64, type: Int64, time: Int64, value: Int64?) throws {
        if c.isPostgres {
            try c.execute("INSERT INTO violation_event(client, violation, type, time, metric_value) VALUES (?, ?, ?, ?, ?)", [client, row, type, time, value])
        } else {
            try c.execute("INSERT INTO violation_event(violation, type, time, metric_value) VALUES (?, ?, ?, ?)", [row, type, time, value])
        }
    }

    private var cachedKey: (UInt64, UInt64)?
    /// Behavior ids by profile and behavior name, with the JSON values they were asked for
    /// (equal values write equal JSON text, so one entry per stored behavior row).
    private var behaviors: [String: [(json: JSONValue, id: Int64)]] = [:]
    /// The rows of the violations this store created or found stored, by violationId (no
    /// lookup needed).
    private var created: [String: Int64] = [:]
    /// The violationIds a batching evaluation may clear or invalidate (its active alarms): on
    /// the first one not known, all are looked up together, a chunk per statement.
    var candidates: () -> [String] = { [] }
    private var candidatesRead = false
    /// With `defersEvents` (the evaluation cycle on PostgreSQL), events are kept and written
    /// by `flushEvents` in one statement per 5000: (violation row, client, type, time, value).
    var defersEvents = false
    private var pendingEvents: [(row: Int64, client: Int64, type: Int64, time: Int64, value: Int64?)] = []
    /// New violations kept the same way, written by `flushEvents` before the events: their
    /// rows are taken from the identity's sequence a block at a time (`reservedRows`), so a
    /// new violation has its violationId without a statement of its own.
    private var pendingViolations: [PendingViolation] = []
    private var pendingIndex: [Int64: Int] = [:]
    private var reservedRows: [Int64] = []
    private var reserveBlock = 64
    private struct PendingViolation {
        var row: Int64, client: Int64, behavior: Int64, lastTime: Int64
        var invalidationReason: String?
    }
    /// Whether violations, their changes and events are kept for `flushEvents`.
    private var batches: Bool { defersEvents && c.dialect.writesBatchesAsArrays }
    /// Stored violations' new last times (and invalidation reasons), kept the same way.
    private var pendingUpdates: [(row: Int64, time: Int64, reason: String?, invalidated: Bool)] = []

    func key() throws -> (UInt64, UInt64) {
        if let cachedKey { return cachedKey }
        var text = try db.meta("violation_key")
        if text == nil {
            text = FleetDatabase.hex32()
            try db.setMeta("violation_key", text)
        }
        let t = text!
        let k = (UInt64(t.prefix(16), radix: 16) ?? 0, UInt64(t.suffix(16), radix: 16) ?? 0)
        cachedKey = k
        return k
    }

    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The violationId of a violation row.
    func violationId(row: Int64) throws -> String {
        let (s1, s2) = try key()
        let r = UInt64(bitPattern: row)
        return Self.hex16((r &* Self.k1) ^ s1) + Self.hex16((r &* Self.k2) ^ s2)
    }

    /// The id shown for a stored violation: its legacy id, else the derived one.
    func violationId(row: Int64, legacy: String?) throws -> String {
        try legacy ?? violationId(row: row)
    }

    /// The row of a violationId, if it is one of this database's.
    func row(of violationId: String) throws -> Int64? {
        if let known = created[violationId] { return known }
        if batches && !candidatesRead {
            candidatesRead = true
            try readStoredRows(candidates())
            if let known = created[violationId] { return known }
        }
        if let r = try derivedRow(of: violationId),
           try c.scalar("SELECT 1 FROM violation WHERE id = ? AND legacy_id IS NULL", [r]) != nil {
            return r
        }
        return try c.scalar("SELECT id FROM violation WHERE legacy_id = ?", [violationId])?.int
    }

    /// Notes the rows of those of `violationIds` that are stored under their derived ids.
    private func readStoredRows(_ violationIds: [String]) throws {
        var ids: [Int64: String] = [:]
        for v in violationIds where created[v] == nil { if let r = try derivedRow(of: v) { ids[r] = v } }
        for chunk in Array(ids.keys).chunks(of: StoreBatch.ids) {
            try c.forEach("SELECT id FROM violation WHERE id IN \(c.dialect.boundIntegerList) AND legacy_id IS NULL",
                          [SearchStore.idList(Array(chunk))]) { r in
                if let v = ids[r.int(0)] { created[v] = r.int(0) }
            }
        }
    }

    /// The row a violationId names if it is one this database derives (whether or not the row
    /// is still stored).
    func derivedRow(of violationId: String) throws -> Int64? {
        guard violationId.utf8.count == 32, let hi = UInt64(violationId.prefix(16), radix: 16),
              let lo = UInt64(violationId.suffix(16), radix: 16) else { return nil }
        let (s1, s2) = try key()
        let r = (hi ^ s1) &* Self.k1Inverse
        return (r &* Self.k2) ^ s2 == lo && r <= UInt64(Int64.max) ? Int64(r) : nil
    }

    /// The id of a (profile, behavior JSON), stored once. A tick raising many violations of
    /// one behavior finds it by name and an equal JSON value, without writing the JSON again.
    func behaviorID(profile: String, behavior: JSONValue) throws -> Int64 {
        let name = behavior["name"]?.stringValue ?? ""
        let key = profile + "\u{0}" + name
        if let known = behaviors[key]?.first(where: { $0.json == behavior }) { return known.id }
        let json = behavior.compact
        try c.execute(Self.insertBehavior, [profile, name, json])
        let id = try c.scalar("SELECT id FROM violation_behavior WHERE profile = ? AND json = ?", [profile, json])!.int!
        behaviors[key, default: []].append((behavior, id))
        return id
    }

    /// A new violation (an alarm raised at `time`); returns its violationId.
    func newViolation(client: Int64, profile: String, behavior: JSONValue, at time: Int64) throws -> String {
        let b = try behaviorID(profile: profile, behavior: behavior)
        let row: Int64
        if batches {
            row = try reservedRow()
            pendingIndex[row] = pendingViolations.count
            pendingViolations.append(PendingViolation(row: row, client: client, behavior: b, lastTime: time))
        } else {
            row = try c.scalar("INSERT INTO violation(client, behavior, last_time) VALUES (?, ?, ?) RETURNING id", [client, b, time])?.int ?? 0
        }
        let id = try violationId(row: row)
        created[id] = row
        return id
    }

    /// The next row id of the identity's sequence; a block is reserved when none is left
    /// (64, doubling up to StoreBatch.rows: a tick that raises few wastes few). Holding the
    /// fleet's write lock alone (an evaluation), no other connection takes ids meanwhile, so the
    /// block is one `setval` past this `nextval` (a block of 5,000 `nextval`s took 7-8 ms at
    /// 1,000,000 things, 61 ms of a tick raising 17,500); otherwise a `nextval` per id.
    private func reservedRow() throws -> Int64 {
        if reservedRows.isEmpty {
            let n = Int64(reserveBlock)
            let sequence = "(SELECT pg_get_serial_sequence('violation', 'id')::regclass AS sequence) AS q"
            if c.holdsTheWriteLockAlone,
               let last = try c.scalar("SELECT setval(q.sequence, nextval(q.sequence) + ? - 1) FROM \(sequence)", [n])?.int {
                reservedRows = Array(stride(from: last, to: last - n, by: -1))
            } else {
                reservedRows = try c.query("SELECT nextval(q.sequence) FROM \(sequence), generate_series(1, ?) ORDER BY 1 DESC", [n]) { $0.int(0) }
            }
            reserveBlock = min(reserveBlock * 2, StoreBatch.rows)
        }
        return reservedRows.removeLast()
    }

    /// Writes the new violations `newViolation` kept.
    private func flushViolations() throws {
        for p in pendingViolations.chunks(of: StoreBatch.rows) {
            try c.execute("""
                INSERT INTO violation(id, client, behavior, last_time, invalidation_reason)
                SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[])
                """, [PostgresArray.literal(p.map(\.row)), PostgresArray.literal(p.map(\.client)), PostgresArray.literal(p.map(\.behavior)),
                      PostgresArray.literal(p.map(\.lastTime)), PostgresArray.literal(p.map(\.invalidationReason))])
        }
        pendingViolations.removeAll()
        pendingIndex.removeAll()
        for p in pendingUpdates.chunks(of: StoreBatch.rows) {
            try c.execute("""
                UPDATE violation AS v SET last_time = GREATEST(v.last_time, u.time),
                    invalidation_reason = CASE WHEN u.invalidated THEN u.reason ELSE v.invalidation_reason END
                FROM (SELECT row, max(time) AS time, max(reason) FILTER (WHERE invalidated) AS reason, bool_or(invalidated) AS invalidated
                      FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::boolean[]) AS x(row, time, reason, invalidated) GROUP BY row) AS u
                WHERE v.id = u.row
                """, [PostgresArray.literal(p.map(\.row)), PostgresArray.literal(p.map(\.time)), PostgresArray.literal(p.map(\.reason)),
                      PostgresArray.literal(p.map(\.invalidated))])
        }
        pendingUpdates.removeAll()
    }

    /// Stores one event of a violation (created with the event's id when it is not stored,
    /// e.g. an alarm older than the retention).
    func insert(_ e: ViolationRecord) throws {
        var row = try row(of: e.violationId)
        if row == nil {
            let b = try behaviorID(profile: e.profile, behavior: e.behavior)
            row = try c.scalar("INSERT INTO violation(client, behavior, last_time, legacy_id) VALUES (?, ?, ?, ?) RETURNING id", [e.client, b, e.time, e.violationId])?.int
        }
        let type = Int64(Self.types.firstIndex(of: e.type) ?? 0)
        let value = e.metricValue.map { Int64(exactly: $0.rounded()) ?? 0 }
        if batches {
            pendingEvents.append((row!, e.client, type, e.time, value))
        } else {
            try insertEvent(row: row!, client: e.client, type: type, time: e.time, value: value)
        }
        // A clear or an invalidation moves the violation's last time (and keeps the reason).
        guard type != 0 else { return }
        let reason = type == 2 ? e.verificationDescription : nil
        if let i = pendingIndex[row!] {
            // In the same evaluation that raised it: the kept row changes.
            pendingViolations[i].lastTime = max(pendingViolations[i].lastTime, e.time)
            if type == 2 { pendingViolations[i].invalidationReason = reason }
        } else if batches {
            pendingUpdates.append((row!, e.time, reason, type == 2))
        } else if type == 2 {
            try c.execute(raiseLastTimeAndReason, [e.time, reason, row!])
        } else {
            try c.execute(raiseLastTime, [e.time, row!])
        }
    }

    /// Writes the events `defersEvents` kept, in the order they were recorded (their ids
    /// follow it, as the events' order in list-violation-events does).
    func flushEvents() throws {
        try flushViolations()
        for p in pendingEvents.chunks(of: StoreBatch.rows) {
            try c.execute("""
                INSERT INTO violation_event(client, violation, type, time, metric_value)
                SELECT u.client, u.violation, u.type, u.time, u.metric_value
                FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
                     WITH ORDINALITY AS u(client, violation, type, time, metric_value, n)
                ORDER BY u.n
                """, [PostgresArray.literal(p.map(\.client)), PostgresArray.literal(p.map(\.row)), PostgresArray.literal(p.map(\.type)),
                      PostgresArray.literal(p.map(\.time)), PostgresArray.literal(p.map(\.value))])
        }
        pendingEvents.removeAll()
    }

    /// The SELECT list and joins that `event(_:)` reads, after `FROM violation_event AS e`.
    static let eventColumns = """
        SELECT e.id, v.id, v.legacy_id, c.client_id, b.profile, b.name, b.json, e.metric_value, e.time, e.type,
               v.verification_state, v.verification_description, v.invalidation_reason
        FROM violation_event AS e JOIN violation AS v ON v.id = e.violation
        JOIN client AS c ON c.id = v.client JOIN violation_behavior AS b ON b.id = v.behavior
        """

    /// A ViolationEvent (AWS shape) from a row of `eventColumns`.
    func event(_ s: StoreRow) throws -> JSONValue {
        let type = Int(s.int(9))
        let invalidated = type == 2
        let put = !s.isNull(10)
        let state: String? = put ? s.text(10) : (invalidated ? "UNKNOWN" : nil)
        let description: String? = put ? s.optionalText(11) : (invalidated ? s.optionalText(12) : nil)
        return jsonObject([
            ("violationId", .string(try violationId(row: s.int(1), legacy: s.optionalText(2)))),
            ("thingName", .string(s.text(3))), ("securityProfileName", .string(s.text(4))),
            ("behavior", (try? JSONValue.parse(s.text(6))) ?? .object([])),
            ("metricValue", s.isNull(7) ? nil : jsonObject([("count", .double(s.double(7)))])),
            ("violationEventType", .string(Self.types[min(max(type, 0), 2)])),
            ("verificationState", state.map(JSONValue.string)),
            ("verificationStateDescription", description.map(JSONValue.string)),
            ("violationEventTime", .string(Timestamp.iso(s.int(8)))),
        ])
    }

    /// A page of events in [start, end] after event `after`, by event id, filtered by what is
    /// given (`none`: an empty page, for criteria fleetdex never raises): (event id, ViolationEvent).
    func events(from start: Int64, through end: Int64, after: Int64, thingName: String?, profile: String?, none: Bool,
                verificationState: String?, limit: Int) throws -> [(Int64, JSONValue)] {
        var sql = Self.eventColumns + " WHERE e.time >= ? AND e.time <= ? AND e.id > ?"
        var binds: [SQLiteValue] = [.integer(start), .integer(end), .integer(after)]
        if let thingName { sql += " AND c.client_id = ?"; binds.append(.text(thingName)) }
        if let profile { sql += " AND b.profile = ?"; binds.append(.text(profile)) }
        if none { sql += " AND false" }
        if let verificationState { sql += " AND coalesce(v.verification_state, 'UNKNOWN') = ?"; binds.append(.text(verificationState)) }
        sql += " ORDER BY e.id LIMIT ?"
        binds.append(.integer(Int64(limit)))
        var rows: [(Int64, JSONValue)] = []
        try c.forEach(sql, binds) { s in rows.append((s.int(0), try event(s))) }
        return rows
    }

    /// In-alarm events, oldest first: (violationId, thing name, profile, behavior name).
    func inAlarmEvents(start: Int64?, end: Int64?) throws -> [(String, String, String, String)] {
        var sql = Self.eventColumns + " WHERE e.type = 0"
        var binds: [SQLiteValue] = []
        if let start, let end { sql += " AND e.time >= ? AND e.time <= ?"; binds += [.integer(start), .integer(end)] }
        var rows: [(Int64, String?, String, String, String)] = []
        try c.forEach(sql + " ORDER BY e.time, e.id", binds) { s in rows.append((s.int(1), s.optionalText(2), s.text(3), s.text(4), s.text(5))) }
        return try rows.map { (try violationId(row: $0.0, legacy: $0.1), $0.2, $0.3, $0.4) }
    }

    /// Drops violations with no event left in the retention and no active alarm, and the
    /// behaviors no violation uses.
    func prune(before cutoff: Int64) throws {
        try c.execute("DELETE FROM violation_event WHERE time < ?", [cutoff])
        // The violations of active alarms: their rows derived from the ids (no statement per
        // alarm), and those stored under a legacy id in one statement.
        var active = Set<Int64>()
        for vid in try c.query("SELECT violation_id FROM alarm WHERE violation_id IS NOT NULL", [], { $0.text(0) }) {
            if let r = try derivedRow(of: vid) { active.insert(r) }
        }
        try c.forEach("SELECT v.id FROM violation AS v JOIN alarm AS a ON a.violation_id = v.legacy_id") { active.insert($0.int(0)) }
        let old = try c.query("SELECT id FROM violation WHERE last_time < ? AND id NOT IN (SELECT violation FROM violation_event)", [cutoff]) { $0.int(0) }
            .filter { !active.contains($0) }
        for chunk in old.chunks(of: StoreBatch.ids) {
            try c.execute("DELETE FROM violation WHERE id IN \(c.dialect.boundIntegerList)", [SearchStore.idList(Array(chunk))])
        }
        try c.execute("DELETE FROM violation_behavior WHERE id NOT IN (SELECT behavior FROM violation)")
    }
}
