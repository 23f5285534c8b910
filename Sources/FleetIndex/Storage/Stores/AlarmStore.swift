// FleetIndex storage: the alarm state machine's rows (`alarm`: one slot per client, profile
// and behavior, with its streak and active violation), the evaluated ticks, and the client
// rows the evaluation cycle visits.
import FleetPostgres
import FleetSQLite
import FleetStorage

extension EvaluationCycle.ClientInfo {
    /// Columns: `AlarmStore.clientColumns`.
    init(row s: StoreRow) {
        self.init(id: s.int(0), clientId: s.text(1), thing: s.optionalInt(2),
                  mark: PresenceMark(row: s, from: 3, timestamp: EvaluationCycle.clamp),
                  maxTs: s.optionalInt(8))
    }
}

extension EvaluationCycle.Slot {
    /// Columns: `client, profile, behavior, in_alarm, streak, violation_id, start_time, last_value, last_time, last_datapoint, thing, metric`.
    init(row s: StoreRow) {
        self.init(inAlarm: s.int(3) != 0, streak: Int(min(max(s.int(4), 0), 10)), violationId: s.optionalText(5),
                  startTime: s.optionalInt(6).map(EvaluationCycle.clamp), lastValue: s.optionalDouble(7),
                  lastTime: s.optionalInt(8).map(EvaluationCycle.clamp),
                  lastDatapoint: s.optionalInt(9).map(EvaluationCycle.clamp), thing: s.optionalInt(10), metric: s.text(11))
    }
}

/// An alarm slot as invalidation reads it.
struct AlarmKeyRecord {
    var client: Int64
    var profile: String
    var behavior: String
    var violationId: String?
    var lastValue: Double?
    var clientId: String
    var inAlarm: Bool

    /// Columns: `a.client, a.profile, a.behavior, a.violation_id, a.last_value, c.client_id, a.in_alarm`.
    init(row s: StoreRow) {
        (client, profile, behavior, violationId) = (s.int(0), s.text(1), s.text(2), s.optionalText(3))
        (lastValue, clientId, inAlarm) = (s.optionalDouble(4), s.text(5), s.int(6) != 0)
    }
}

/// An active violation as ListActiveViolations shows it (the profile's behaviors parsed once).
struct ActiveViolationRecord {
    var violationId: String
    var thingName: String
    var profile: String
    var behaviorName: String
    var lastValue: Double?
    var lastTime: Int64?
    var startTime: Int64?
    var verificationState: String?
    var verificationDescription: String?
    var profileBehaviors: [JSONValue]

    init(row s: StoreRow) {
        (violationId, thingName, profile, behaviorName) = (s.text(0), s.text(1), s.text(2), s.text(3))
        (lastValue, lastTime, startTime) = (s.optionalDouble(4), s.optionalInt(5), s.optionalInt(6))
        (verificationState, verificationDescription) = (s.optionalText(7), s.optionalText(8))
        profileBehaviors = (try? JSONValue.parse(s.text(9)))?.arrayValue ?? []
    }
}

/// Alarm slots, evaluated ticks and the cycle's client rows.
struct AlarmStore {
    let c: StoreConnection
    private static let insertTick = "INSERT INTO evaluated_tick(tick, evaluated_at) VALUES (?, ?) ON CONFLICT DO NOTHING"

    // MARK: ticks

    /// The newest evaluated tick in [from, through].
    func latestTick(from: Int64, through: Int64) throws -> Int64? {
        try c.scalar("SELECT max(tick) FROM evaluated_tick WHERE tick >= ? AND tick <= ?", [from, through])?.int
    }

    /// The newest evaluated tick.
    func latestTick() throws -> Int64? {
        try c.scalar("SELECT max(tick) FROM evaluated_tick")?.int
    }

    func markEvaluated(_ ticks: [Int64], at now: Int64) throws {
        let insert = try c.prepare(Self.insertTick)
        for t in ticks {
            try insert.bind([.integer(t), .integer(now)])
            _ = try insert.step()
        }
    }

    /// Evaluated ticks in [start, end] after `after`, ascending.
    func evaluatedTicks(from start: Int64, through end: Int64, after: Int64) throws -> [Int64] {
        try c.query("SELECT tick FROM evaluated_tick WHERE tick >= ? AND tick <= ? AND tick > ? ORDER BY tick", [start, end, after]) { $0.int(0) }
    }

    /// Drops ticks and violation events older than `cutoff`.
    func prune(before cutoff: Int64) throws {
        try c.execute("DELETE FROM evaluated_tick WHERE tick < ?", [cutoff])
        try c.execute("DELETE FROM violation_event WHERE time < ?", [cutoff])
    }

    // MARK: clients

    /// Calls `body` with every client's id and thing.
    func forEachClient(_ body: (_ id: Int64, _ thing: Int64?) -> Void) throws {
        try c.forEach("SELECT id, thing FROM client") { s in body(s.int(0), s.optionalInt(1)) }
    }

    static let clientColumns = "SELECT id, client_id, thing, ts, event_type, session, version, reason, max_ts FROM client"

    func allClients() throws -> [EvaluationCycle.ClientInfo] {
        try c.query(Self.clientColumns, [], EvaluationCycle.ClientInfo.init(row:))
    }

    /// The clients that can change state: disconnected, with an event since `since`, newer than
    /// `knownClients`, with an alarm slot or an open metric run.
    func changeableClients(since: Int64, knownClients: Int64) throws -> [EvaluationCycle.ClientInfo] {
        if c.isPostgres {
            // The ids from an index each, then the rows by id: PostgreSQL answers the OR below
            // with a scan of every client (400-460 ms at 1,000,000; this 140-150 ms).
            return try c.query(Self.clientColumns + """
                 WHERE id = ANY(ARRAY(SELECT id FROM client WHERE NOT connected UNION SELECT id FROM client WHERE max_ts > ?
                 UNION SELECT id FROM client WHERE seq > ? UNION SELECT client FROM alarm
                 UNION SELECT client FROM metric_run WHERE last_tick IS NULL))
                """, [since, knownClients], EvaluationCycle.ClientInfo.init(row:))
        }
        return try c.query(Self.clientColumns + " WHERE \(c.dialect.flag("connected", false)) OR max_ts > ? OR \(c.dialect.arrivalOrder) > ? OR id IN (SELECT client FROM alarm) OR id IN (SELECT client FROM metric_run WHERE last_tick IS NULL)",
                           [since, knownClients], EvaluationCycle.ClientInfo.init(row:))
    }

    func client(id: Int64) throws -> [EvaluationCycle.ClientInfo] {
        try c.query(Self.clientColumns + " WHERE id = ?", [id], EvaluationCycle.ClientInfo.init(row:))
    }

    func maxClientID() throws -> Int64? {
        try c.scalar("SELECT max(\(c.dialect.arrivalOrder)) FROM client")?.int
    }

    /// A client's row id and thing by client id.
    func client(named clientId: String) throws -> (id: Int64, thing: Int64?)? {
        try c.query("SELECT id, thing FROM client WHERE client_id = ?", [clientId]) { ($0.int(0), $0.optionalInt(1)) }.first
    }

    func thingID(named name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing WHERE name = ?", [name])?.int
    }

    // MARK: alarm slots

    /// Every slot, by (client, profile, behavior).
    func slots() throws -> [EvaluationCycle.SlotKey: EvaluationCycle.Slot] {
        var slots: [EvaluationCycle.SlotKey: EvaluationCycle.Slot] = [:]
        try c.forEach("SELECT client, profile, behavior, in_alarm, streak, violation_id, start_time, last_value, last_time, last_datapoint, thing, metric FROM alarm") { s in
            slots[EvaluationCycle.SlotKey(client: s.int(0), profile: s.text(1), behavior: s.text(2))] = EvaluationCycle.Slot(row: s)
        }
        return slots
    }

    /// The statements that write slots back, prepared once per cycle.
    func slotWriter() throws -> SlotWriter { try SlotWriter(c) }

    /// Writes alarm slots back. SQLite: a held statement per slot, at once. PostgreSQL: the
    /// slots are kept and `flush` writes them in one DELETE and one INSERT over arrays (each
    /// slot key is written at most once per flush).
    final class SlotWriter {
        let c: StoreConnection
        let del, put: StoreStatement?
        private var deletes: [(client: Int64, profile: String, behavior: String)] = []
        private var puts: [(client: Int64, profile: String, behavior: String, slot: EvaluationCycle.Slot)] = []

        init(_ c: StoreConnection) throws {
            self.c = c
            guard !c.dialect.writesBatchesAsArrays else { (del, put) = (nil, nil); return }
            del = try c.prepare("DELETE FROM alarm WHERE client = ? AND profile = ? AND behavior = ?")
            put = try c.prepare(Self.upsert(values: "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        }

        static func upsert(values: String) -> String {
            """
            INSERT INTO alarm(client, profile, behavior, thing, in_alarm, streak, violation_id, metric, start_time, last_value, last_time, last_datapoint)
            \(values)
            ON CONFLICT(client, profile, behavior) DO UPDATE SET thing = excluded.thing, in_alarm = excluded.in_alarm,
                streak = excluded.streak, violation_id = excluded.violation_id, metric = excluded.metric, start_time = excluded.start_time,
                last_value = excluded.last_value, last_time = excluded.last_time, last_datapoint = excluded.last_datapoint,
                verification_state = CASE WHEN alarm.violation_id IS NOT DISTINCT FROM excluded.violation_id THEN alarm.verification_state END,
                verification_description = CASE WHEN alarm.violation_id IS NOT DISTINCT FROM excluded.violation_id THEN alarm.verification_description END
            """
        }

        private static let upsertArrays = upsert(values: """
            SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::boolean[], ?::bigint[], ?::text[], ?::text[],
                ?::bigint[], ?::double precision[], ?::bigint[], ?::bigint[])
            """)
        private static let deleteArrays = """
            DELETE FROM alarm AS a USING unnest(?::bigint[], ?::text[], ?::text[]) AS d(client, profile, behavior)
            WHERE a.client = d.client AND a.profile = d.profile AND a.behavior = d.behavior
            """

        func delete(client: Int64, profile: String, behavior: String) throws {
            guard let del else { deletes.append((client, profile, behavior)); return }
            try del.bind([.integer(client), .text(profile), .text(behavior)])
            try del.step()
        }

        func put(client: Int64, profile: String, behavior: String, _ s: EvaluationCycle.Slot) throws {
            guard let put else { puts.append((client, profile, behavior, s)); return }
            try put.bind([.integer(client), .text(profile), .text(behavior), s.thing.map(SQLiteValue.integer) ?? .null, .integer(s.inAlarm ? 1 : 0),
                          .integer(Int64(s.streak)), s.violationId.map(SQLiteValue.text) ?? .null, .text(s.metric),
                          s.startTime.map(SQLiteValue.integer) ?? .null, s.lastValue.map(SQLiteValue.real) ?? .null,
                          s.lastTime.map(SQLiteValue.integer) ?? .null, s.lastDatapoint.map(SQLiteValue.integer) ?? .null])
            try put.step()
        }

        /// Writes what was kept (PostgreSQL), `StoreBatch.rows` slots per statement.
        func flush() throws {
            for d in deletes.chunks(of: StoreBatch.rows) {
                try c.execute(Self.deleteArrays, [PostgresArray.literal(d.map(\.client)), PostgresArray.literal(d.map(\.profile)),
                                                  PostgresArray.literal(d.map(\.behavior))])
            }
            for p in puts.chunks(of: StoreBatch.rows) {
                try c.execute(Self.upsertArrays, [
                    PostgresArray.literal(p.map(\.client)), PostgresArray.literal(p.map(\.profile)), PostgresArray.literal(p.map(\.behavior)),
                    PostgresArray.literal(p.map(\.slot.thing)), PostgresArray.literal(p.map(\.slot.inAlarm)),
                    PostgresArray.literal(p.map { Int64($0.slot.streak) }), PostgresArray.literal(p.map(\.slot.violationId)),
                    PostgresArray.literal(p.map(\.slot.metric)), PostgresArray.literal(p.map(\.slot.startTime)),
                    PostgresArray.literal(p.map(\.slot.lastValue)), PostgresArray.literal(p.map(\.slot.lastTime)),
                    PostgresArray.literal(p.map(\.slot.lastDatapoint)),
                ])
            }
            deletes.removeAll()
            puts.removeAll()
        }
    }

    /// The slots of a profile, behavior and thing (each when given).
    func alarms(profile: String?, behavior: String?, thing: Int64?) throws -> [AlarmKeyRecord] {
        var sql = "SELECT a.client, a.profile, a.behavior, a.violation_id, a.last_value, c.client_id, a.in_alarm FROM alarm AS a JOIN client AS c ON c.id = a.client WHERE true"
        var binds: [SQLiteValue] = []
        if let profile { sql += " AND a.profile = ?"; binds.append(.text(profile)) }
        if let behavior { sql += " AND a.behavior = ?"; binds.append(.text(behavior)) }
        if let thing { sql += " AND a.thing = ?"; binds.append(.integer(thing)) }
        return try c.query(sql, binds, AlarmKeyRecord.init(row:))
    }

    func deleteAlarm(client: Int64, profile: String, behavior: String) throws {
        try c.execute("DELETE FROM alarm WHERE client = ? AND profile = ? AND behavior = ?", [client, profile, behavior])
    }

    /// A page of active violations by violation id, filtered by what is given (`none`: an
    /// empty page, for criteria fleetdex never raises).
    func activeViolations(after: String, thingName: String?, profile: String?, none: Bool, verificationState: String?, limit: Int) throws -> [ActiveViolationRecord] {
        var sql = """
            SELECT a.violation_id, c.client_id, a.profile, a.behavior, a.last_value, a.last_time, a.start_time,
                   a.verification_state, a.verification_description, p.behaviors
            FROM alarm AS a JOIN client AS c ON c.id = a.client JOIN security_profile AS p ON p.name = a.profile
            WHERE \(c.dialect.flag("a.in_alarm", true)) AND a.violation_id > ?
            """
        var binds: [SQLiteValue] = [.text(after)]
        if let thingName { sql += " AND c.client_id = ?"; binds.append(.text(thingName)) }
        if let profile { sql += " AND a.profile = ?"; binds.append(.text(profile)) }
        if none { sql += " AND false" }
        if let verificationState { sql += " AND coalesce(a.verification_state, 'UNKNOWN') = ?"; binds.append(.text(verificationState)) }
        sql += " ORDER BY a.violation_id LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds, ActiveViolationRecord.init(row:))
    }

    func hasAlarm(violationId: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM alarm WHERE violation_id = ?", [violationId]) != nil
    }

    /// Sets the verification state of an active violation (and of its stored row when given).
    func setVerification(violationId: String, row: Int64?, state: String, description: String?) throws {
        try c.execute("UPDATE alarm SET verification_state = ?, verification_description = ? WHERE violation_id = ?", [state, description, violationId])
        if let row { try c.execute("UPDATE violation SET verification_state = ?, verification_description = ? WHERE id = ?", [state, description, row]) }
    }
}
