// FleetIndex: the evaluation cycle. For each 5-minute UTC tick not yet processed, in
// order: compute the cloud-side metrics of every monitored client from its presence history,
// run each behavior's alarm state machine, write violation events and publish alerts; then
// refresh the dynamic groups and prune what retention allows. One transaction: a cycle
// happens whole or not at all, and running it twice changes nothing the second time.
import FleetSQLite

/// `evaluate --at T`.
public struct EvaluationCycle {
    public let db: FleetDatabase
    var c: Connection { db.connection }
    public init(_ db: FleetDatabase) { self.db = db }

    public static let tick: Int64 = 300_000
    public static let retention: Int64 = 14 * 86_400_000
    public static let noDataLimit: Int64 = 2 * 86_400_000

    /// What one cycle changed.
    public struct Report: Equatable {
        public var ticks: [Int64] = []
        public var skippedTicks = 0
        public var datapoints = 0
        public var raised = 0
        public var cleared = 0
        public var invalidated = 0
        public var alerts = 0
        public var joined = 0
        public var left = 0

        public var json: JSONValue {
            jsonObject([
                ("ticks", .int(ticks.count)),
                ("firstTick", ticks.first.map { .string(Timestamp.iso($0)) }),
                ("lastTick", ticks.last.map { .string(Timestamp.iso($0)) }),
                ("skippedTicks", skippedTicks > 0 ? .int(skippedTicks) : nil),
                ("datapoints", .int(datapoints)),
                ("violationsRaised", .int(raised)),
                ("violationsCleared", .int(cleared)),
                ("violationsInvalidated", .int(invalidated)),
                ("alertsPublished", .int(alerts)),
                ("groupJoins", .int(joined)),
                ("groupLeaves", .int(left)),
            ])
        }
    }

    /// The ticks `evaluate --at now [--since]` processes, oldest first, and how many were skipped.
    public func pendingTicks(at now: Int64, since: Int64?) throws -> ([Int64], Int) {
        let last = now - Timestamp.floorDiv(now, Self.tick).1
        let processed = try c.scalar("SELECT max(tick) FROM evaluated_tick")?.int
        var first: Int64
        if let since {
            let s = since + (Self.tick - Timestamp.floorDiv(since, Self.tick).1) % Self.tick
            first = max(s, (processed ?? Int64.min / 2) + Self.tick)
        } else if let processed {
            first = processed + Self.tick
        } else {
            first = last
        }
        guard first <= last else { return ([], 0) }
        var skipped = 0
        let oldest = last - Self.retention + Self.tick
        if first < oldest {
            skipped = Int((oldest - first) / Self.tick)
            first = oldest
        }
        let step = Int(Self.tick)
        return (Array(stride(from: first, through: last, by: step)), skipped)
    }

    struct Slot {
        var inAlarm: Bool
        var streak: Int
        var violationId: String?
        var startTime: Int64?
        var lastValue: Double?
        var lastTime: Int64?
        var lastDatapoint: Int64?
        var thing: Int64?
        var metric: String
        var changed = false

        enum Transition { case none, raised, cleared(violationId: String) }

        /// One datapoint through the alarm state machine (semantics.md §3): a streak of
        /// violating datapoints raises the alarm with a new violationId, a streak of conforming
        /// ones clears it (the slot then starts over, empty).
        mutating func apply(_ value: Double, violates: Bool, at tick: Int64, behavior b: Behavior) -> Transition {
            changed = true
            lastDatapoint = tick
            if !inAlarm {
                guard violates else { streak = 0; return .none }
                streak += 1
                guard streak >= b.consecutiveDatapointsToAlarm else { return .none }
                inAlarm = true
                streak = 0
                violationId = FleetDatabase.hex32()
                startTime = tick
                lastValue = value
                lastTime = tick
                return .raised
            }
            if violates {
                streak = 0
                lastValue = value
                lastTime = tick
                return .none
            }
            streak += 1
            guard streak >= b.consecutiveDatapointsToClear, let id = violationId else { return .none }
            self = Slot(inAlarm: false, streak: 0, thing: thing, metric: metric, changed: true)
            return .cleared(violationId: id)
        }
    }

    struct ClientInfo {
        var id: Int64
        var clientId: String
        var thing: Int64?
        var mark: PresenceMark?
        var maxTs: Int64?
    }

    /// Runs the cycle up to `now`.
    public func evaluate(at now: Int64, since: Int64? = nil) throws -> Report {
        try c.execute(script: "PRAGMA cache_size = -262144")
        defer { try? c.execute(script: "PRAGMA cache_size = -2000") }
        return try c.transaction {
            var report = Report()
            let (ticks, skipped) = try pendingTicks(at: now, since: since)
            report.skippedTicks = skipped
            report.ticks = ticks
            if !ticks.isEmpty {
                try evaluateTicks(ticks, at: now, report: &report)
                let insert = try c.prepare("INSERT OR IGNORE INTO evaluated_tick(tick, evaluated_at) VALUES (?, ?)")
                for t in ticks {
                    try insert.bind([.integer(t), .integer(now)])
                    try insert.step()
                }
            }
            // Later stages: dynamic groups see the violations as they now stand.
            let groups = try DynamicGroups(db).refreshAll(at: now, reason: ticks.last.map { "evaluation at tick \(Timestamp.iso($0))" } ?? "evaluation")
            report.joined = groups.joined
            report.left = groups.left
            try prune(now: ticks.last ?? now)
            return report
        }
    }

    func prune(now: Int64) throws {
        let cutoff = now - Self.retention
        try c.execute("DELETE FROM violation_event WHERE time < ?", [cutoff])
        try c.execute("DELETE FROM evaluated_tick WHERE tick < ?", [cutoff])
    }

    func evaluateTicks(_ ticks: [Int64], at now: Int64, report: inout Report) throws {
        let defender = Defender(db)
        let monitor = Monitor(db)
        let profiles = try defender.attachedProfiles()
        // A connected client with no event in the span and no alarm slot has the value 0 at every
        // tick, which conforms to every behavior whose zero conforms: it need not be visited.
        let firstPeriodStart = ticks[0] - PresenceHistory.period
        let zeroViolates = profiles.contains { $0.behaviors.contains { $0.violates(0) } }
        let clientSQL = "SELECT id, client_id, thing, ts, event_type, session, version, reason, max_ts FROM client"
            + (zeroViolates ? "" : " WHERE connected = 0 OR max_ts > ? OR id IN (SELECT client FROM alarm)")
        let clients = try c.query(clientSQL, zeroViolates ? [] : [firstPeriodStart]) { s in
            ClientInfo(id: s.int(0), clientId: s.text(1), thing: s.optionalInt(2),
                       mark: s.isNull(3) ? nil : PresenceMark(timestamp: s.int(3), kind: LifecycleEvent.Kind(rawValue: s.int(4)) ?? .connected,
                                                              session: s.text(5), version: s.int(6), reason: s.optionalText(7)),
                       maxTs: s.optionalInt(8))
        }
        // Alarm slots with a running streak or an active alarm.
        var slots: [String: Slot] = [:]
        try c.forEach("SELECT client, profile, behavior, in_alarm, streak, violation_id, start_time, last_value, last_time, last_datapoint, thing, metric FROM alarm") { s in
            slots["\(s.int(0))|\(s.text(1))|\(s.text(2))"] = Slot(inAlarm: s.int(3) != 0, streak: Int(s.int(4)), violationId: s.optionalText(5),
                                                                  startTime: s.optionalInt(6), lastValue: s.optionalDouble(7), lastTime: s.optionalInt(8),
                                                                  lastDatapoint: s.optionalInt(9), thing: s.optionalInt(10), metric: s.text(11))
        }
        let alerts = Alerts(db)
        var monitoredKeys = Set<String>()
        // A client's values of a metric at every tick, computed once however many profiles use it.
        var histories: [Int64: PresenceHistory] = [:]
        var computed: [String: [Double?]] = [:]
        func series(_ client: ClientInfo, _ metric: String) throws -> [Double?] {
            let key = "\(client.id)|\(metric)"
            if let known = computed[key] { return known }
            let values: [Double?]
            if let m = client.maxTs, m > firstPeriodStart {
                let h = try histories[client.id] ?? PresenceHistory.load(c, client: client.id, until: ticks.last!)
                histories[client.id] = h
                values = h.values(metric, ticks: ticks)
            } else if metric == "aws:disconnect-duration" {
                values = ticks.map { t in client.mark.map { PresenceHistory.disconnectDuration($0, at: t) } }
            } else {
                values = ticks.map { _ in client.maxTs == nil ? nil : 0 }
            }
            computed[key] = values
            return values
        }
        for p in profiles {
            let targets = try monitor.targets(profile: p.id)
            let members = targets.groups.isEmpty ? Set<Int64>() : try monitor.groupMembers(targets.groups)
            for client in clients where monitor.covers(targets, thing: client.thing, members: members) {
                for b in p.behaviors {
                    let key = "\(client.id)|\(p.name)|\(b.name)"
                    monitoredKeys.insert(key)
                    let values = try series(client, b.metric)
                    var slot = slots[key]
                    for (i, tick) in ticks.enumerated() {
                        guard let v = values[i] else {
                            if var s = slot, s.inAlarm, let last = s.lastDatapoint ?? s.startTime, tick - last >= Self.noDataLimit {
                                try emit(invalidated: &s, client: client, profile: p, behavior: b, tick: tick, reason: "no datapoint for 2 days",
                                         alerts: alerts, report: &report)
                                slot = nil
                                slots[key] = Slot(inAlarm: false, streak: 0, metric: b.metric, changed: true)
                            }
                            continue
                        }
                        report.datapoints += 1
                        let violates = b.violates(v)
                        if slot == nil {
                            guard violates else { continue }  // conforming with no streak: nothing to keep
                            slot = Slot(inAlarm: false, streak: 0, thing: client.thing, metric: b.metric)
                        }
                        var s = slot!
                        s.thing = client.thing
                        switch s.apply(v, violates: violates, at: tick, behavior: b) {
                        case .raised:
                            try record(ViolationRecord(violationId: s.violationId!, thingName: client.clientId, profile: p.name, behavior: b.json,
                                                       metricValue: v, type: "in-alarm", time: tick),
                                       profile: p, behavior: b, alerts: alerts, at: now, report: &report)
                            report.raised += 1
                        case .cleared(let violationId):
                            try record(ViolationRecord(violationId: violationId, thingName: client.clientId, profile: p.name, behavior: b.json,
                                                       metricValue: v, type: "alarm-cleared", time: tick),
                                       profile: p, behavior: b, alerts: alerts, at: now, report: &report)
                            report.cleared += 1
                        case .none:
                            break
                        }
                        slot = s
                    }
                    if let slot { slots[key] = slot }
                }
            }
        }
        // Slots whose (client, profile, behavior) is no longer monitored: the thing left the
        // target or the behavior is gone.
        let clientsByID = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let byName = Dictionary(profiles.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (key, var s) in slots where !monitoredKeys.contains(key) {
            let parts = key.split(separator: "|", maxSplits: 2).map(String.init)
            guard let cid = Int64(parts[0]), let client = clientsByID[cid] else { continue }
            if s.inAlarm, let p = byName[parts[1]] {
                let b = p.behaviors.first { $0.name == parts[2] }
                try emit(invalidated: &s, client: client, profile: p, behavior: b, behaviorName: parts[2], tick: ticks.last!,
                         reason: "the thing is no longer a target of the profile", alerts: alerts, report: &report)
            }
            slots[key] = Slot(inAlarm: false, streak: 0, metric: s.metric, changed: true)
        }
        try save(slots, clientThings: Dictionary(clients.compactMap { c in c.thing.map { (c.id, $0) } }, uniquingKeysWith: { a, _ in a }))
    }

    func record(_ e: ViolationRecord, profile: Defender.Profile, behavior: Behavior?, alerts: Alerts, at now: Int64, report: inout Report) throws {
        try e.insert(c)
        if let topic = profile.alertTopic, !(behavior?.suppressAlerts ?? false) {
            try alerts.publish(e, topicARN: topic, at: now)
            report.alerts += 1
        }
    }

    func emit(invalidated s: inout Slot, client: ClientInfo, profile: Defender.Profile, behavior: Behavior?, behaviorName: String? = nil,
              tick: Int64, reason: String, alerts: Alerts, report: inout Report) throws {
        guard s.inAlarm, let vid = s.violationId else { return }
        let bjson = behavior?.json ?? jsonObject([("name", .string(behaviorName ?? ""))])
        try record(ViolationRecord(violationId: vid, thingName: client.clientId, profile: profile.name, behavior: bjson, metricValue: s.lastValue,
                                   type: "alarm-invalidated", time: tick, verificationState: "UNKNOWN", verificationDescription: reason),
                   profile: profile, behavior: behavior, alerts: alerts, at: tick, report: &report)
        report.invalidated += 1
        s.inAlarm = false
    }

    /// Writes changed slots back; a slot with no alarm and no streak is deleted.
    func save(_ slots: [String: Slot], clientThings: [Int64: Int64]) throws {
        let del = try c.prepare("DELETE FROM alarm WHERE client = ? AND profile = ? AND behavior = ?")
        let put = try c.prepare("""
            INSERT INTO alarm(client, profile, behavior, thing, in_alarm, streak, violation_id, metric, start_time, last_value, last_time, last_datapoint)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(client, profile, behavior) DO UPDATE SET thing = excluded.thing, in_alarm = excluded.in_alarm,
                streak = excluded.streak, violation_id = excluded.violation_id, metric = excluded.metric, start_time = excluded.start_time,
                last_value = excluded.last_value, last_time = excluded.last_time, last_datapoint = excluded.last_datapoint,
                verification_state = CASE WHEN alarm.violation_id IS excluded.violation_id THEN alarm.verification_state END,
                verification_description = CASE WHEN alarm.violation_id IS excluded.violation_id THEN alarm.verification_description END
            """)
        for (key, s) in slots where s.changed {
            let parts = key.split(separator: "|", maxSplits: 2).map(String.init)
            if let thing = s.thing ?? clientThings[Int64(parts[0])!] { try db.touch(thing) }
            let k: [SQLiteValue] = [.integer(Int64(parts[0])!), .text(parts[1]), .text(parts[2])]
            if !s.inAlarm && s.streak == 0 {
                try del.bind(k)
                try del.step()
            } else {
                try put.bind(k + [s.thing.map(SQLiteValue.integer) ?? .null, .integer(s.inAlarm ? 1 : 0), .integer(Int64(s.streak)),
                                  s.violationId.map(SQLiteValue.text) ?? .null, .text(s.metric), s.startTime.map(SQLiteValue.integer) ?? .null,
                                  s.lastValue.map(SQLiteValue.real) ?? .null, s.lastTime.map(SQLiteValue.integer) ?? .null,
                                  s.lastDatapoint.map(SQLiteValue.integer) ?? .null])
                try put.step()
            }
        }
    }
}
