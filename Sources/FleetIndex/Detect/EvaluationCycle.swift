// FleetIndex: the evaluation cycle. For each 5-minute UTC tick not yet processed, in
// order: compute the cloud-side metrics of every monitored client from its presence history,
// run each behavior's alarm state machine, write violation events and publish alerts, store the
// datapoints as seen (metric runs); then refresh the dynamic groups and prune what retention
// allows. One transaction: a cycle happens whole or not at all, and running it twice changes
// nothing the second time. No stored value is trusted to be in range: times outside
// 1970–9999 are skipped or clamped, and arithmetic on stored values cannot overflow.
import FleetSQLite

/// `evaluate --at T`.
public struct EvaluationCycle {
    public let db: FleetDatabase
    var alarms: AlarmStore { db.alarms }
    public init(_ db: FleetDatabase) { self.db = db }

    public static let tick: Int64 = 300_000
    public static let retention: Int64 = 14 * 86_400_000
    public static let noDataLimit: Int64 = 2 * 86_400_000
    /// The times the engine evaluates at: 1970-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z.
    public static let earliest = Timestamp.earliest
    public static let latest = Timestamp.latest
    static func clamp(_ t: Int64) -> Int64 { min(max(t, earliest), latest) }

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
        /// Set when no tick ran because ticks after `at` were evaluated already.
        public var evaluatedThrough: Int64?

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
                ("evaluatedThrough", evaluatedThrough.map { .string(Timestamp.iso($0)) }),
            ])
        }
    }

    /// The last tick processed (a stored tick outside 1970–9999 is ignored).
    func processedTick() throws -> Int64? {
        try alarms.latestTick(from: Self.earliest, through: Self.latest)
    }

    /// The ticks `evaluate --at now [--since]` processes, oldest first, and how many were skipped.
    public func pendingTicks(at now: Int64, since: Int64?) throws -> ([Int64], Int) {
        let now = Self.clamp(now)
        let last = now - Timestamp.floorDiv(now, Self.tick).1
        let processed = try processedTick()
        var first: Int64
        if let since {
            let since = Self.clamp(since)
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

    /// What an alarm slot belongs to: a client, a profile and one of its behaviors.
    struct SlotKey: Hashable {
        var client: Int64
        var profile: String
        var behavior: String
    }

    /// A client's metric, whose values at the cycle's ticks are computed once.
    struct SeriesKey: Hashable {
        var client: Int64
        var metric: String
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
        /// violating datapoints raises the alarm (the caller gives it its violationId), a streak
        /// of conforming ones clears it (the slot then starts over, empty).
        mutating func apply(_ value: Double, violates: Bool, at tick: Int64, behavior b: Behavior) -> Transition {
            changed = true
            lastDatapoint = tick
            if !inAlarm {
                guard violates else { streak = 0; return .none }
                streak = min(streak, 10) + 1
                guard streak >= b.consecutiveDatapointsToAlarm else { return .none }
                inAlarm = true
                streak = 0
                violationId = nil
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
            streak = min(streak, 10) + 1
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

    /// Runs the cycle up to `now` (1970–9999).
    public func evaluate(at now: Int64, since: Int64? = nil) throws -> Report {
        guard (Self.earliest...Self.latest).contains(now) else {
            throw FleetError.invalid(member: "at", "\(now) is not a time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (epoch ms 0 to \(Self.latest))")
        }
        if let since, !(Self.earliest...Self.latest).contains(since) {
            throw FleetError.invalid(member: "since", "\(since) is not a time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (epoch ms 0 to \(Self.latest))")
        }
        try db.metaStore.growCacheForBulk()
        defer { db.metaStore.restoreCacheSize() }
        return try db.transaction {
            var report = Report()
            let previous = try processedTick()
            let (ticks, skipped) = try pendingTicks(at: now, since: since)
            report.skippedTicks = skipped
            report.ticks = ticks
            if !ticks.isEmpty {
                try evaluateTicks(ticks, previous: previous, at: now, report: &report)
                try alarms.markEvaluated(ticks, at: now)
            } else if let previous, previous > now {
                report.evaluatedThrough = previous
            }
            // Later stages: dynamic groups see the violations as they now stand.
            let groups = try DynamicGroups(db).refreshAll(at: now, reason: ticks.last.map { "evaluation at tick \(Timestamp.iso($0))" } ?? "evaluation")
            report.joined = groups.joined
            report.left = groups.left
            try prune(now: ticks.last ?? now)
            return report
        }
    }

    /// Retention: ticks and violation events at every cycle; violations, behaviors and metric
    /// runs (a pass over their tables) once a day of ticks.
    func prune(now: Int64) throws {
        let cutoff = now - Self.retention
        try alarms.prune(before: cutoff)
        let pruned = try db.meta("detect_pruned_at").flatMap { Int64($0) }
        if let pruned, pruned <= now, pruned > now - 86_400_000 { return }
        try ViolationStore(db).prune(before: cutoff)
        try db.metricRuns.prune(before: cutoff)
        try db.setMeta("detect_pruned_at", String(now))
    }

    /// Notes a change of what the attached profiles monitor: the next cycle visits every client
    /// (to start or end their metric runs).
    static func monitoringChanged(_ db: FleetDatabase) throws {
        try db.setMeta("metrics_full_visit", "1")
    }

    func evaluateTicks(_ ticks: [Int64], previous: Int64?, at now: Int64, report: inout Report) throws {
        let defender = Defender(db)
        let monitor = Monitor(db)
        let profiles = try defender.attachedProfiles()
        let targets = try profiles.map { try monitor.targets(profile: $0.id) }
        // The clients visited: those that can change state. A connected client with no event in
        // the span, no alarm slot and no open metric run has the value 0 at every tick, which
        // conforms to every behavior whose zero conforms and continues its closed run; new clients
        // are visited once. Every client is visited when a behavior's zero violates. After a
        // profile change, or while a profile targets anything but all/things, the clients whose
        // monitored metrics differ from those their runs record are visited too (to start or end
        // their runs): one pass over the client ids and the latest runs, not over every client.
        let firstPeriodStart = ticks[0] - PresenceHistory.period
        let zeroViolates = profiles.contains { $0.behaviors.contains { $0.violates(0) } }
        let flagged = try db.meta("metrics_full_visit") != nil
        let members = try targets.map { $0.groups.isEmpty ? Set<Int64>() : try monitor.groupMembers($0.groups) }
        let masks = profiles.map { p in Set(p.behaviors.map(\.metric)).union(p.retained).reduce(UInt8(0)) { m, name in m | MetricCode.bit(name) } }
        let before = previous ?? Self.earliest - 1
        var latestRuns: [Int64: [Int64: MetricRun]]? = nil
        var changed: [Int64] = []
        if zeroViolates || flagged || !targets.allSatisfy(\.all) {
            let latest = try db.metricRuns.allLatest(upTo: before)
            latestRuns = latest
            try alarms.forEachClient { id, thing in
                var want: UInt8 = 0
                for i in profiles.indices where monitor.covers(targets[i], thing: thing, members: members[i]) { want |= masks[i] }
                var have: UInt8 = 0
                for (code, run) in latest[id] ?? [:] where run.start != nil { have |= MetricCode.bit(code) }
                if want != have { changed.append(id) }
            }
        }
        let visitAll = zeroViolates || changed.count > 20_000
        let knownClients = try db.meta("metrics_client_hwm").flatMap { Int64($0) } ?? 0
        var clients: [ClientInfo]
        if visitAll {
            clients = try alarms.allClients()
        } else {
            clients = try alarms.changeableClients(since: firstPeriodStart, knownClients: knownClients)
            let seen = Set(clients.map(\.id))
            for id in changed where !seen.contains(id) { clients += try alarms.client(id: id) }
        }
        // Alarm slots with a running streak or an active alarm.
        var slots = try alarms.slots()
        let alerts = Alerts(db)
        let store = ViolationStore(db)
        store.defersEvents = true
        store.candidates = { slots.values.compactMap { $0.inAlarm ? $0.violationId : nil } }
        var monitoredKeys = Set<SlotKey>()
        // The metrics each visited client is monitored by (behaviors and additionalMetricsToRetainV2).
        var monitoredMetrics: [Int64: Set<String>] = [:]
        // A client's values of a metric at every tick, computed once however many profiles use it.
        var histories: [Int64: PresenceHistory] = [:]
        // The histories the series below read (monitored clients with an event in the span),
        // loaded up front a chunk of clients per statement, not one statement per client.
        let needHistory = clients.filter { c in
            (c.maxTs ?? Int64.min) > firstPeriodStart && profiles.indices.contains { monitor.covers(targets[$0], thing: c.thing, members: members[$0]) }
        }.map(\.id)
        histories = try PresenceHistory.load(db.connection, clients: needHistory, until: ticks.last!)
        var computed: [SeriesKey: [Double?]] = [:]
        func series(_ client: ClientInfo, _ metric: String) throws -> [Double?] {
            let key = SeriesKey(client: client.id, metric: metric)
            if let known = computed[key] { return known }
            let values: [Double?]
            if let m = client.maxTs, m > firstPeriodStart {
                let h = try histories[client.id] ?? PresenceHistory.load(db.connection, client: client.id, until: ticks.last!)
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
        for (i, p) in profiles.enumerated() {
            let targets = targets[i], members = members[i]
            let metrics = Set(p.behaviors.map(\.metric)).union(p.retained)
            for client in clients where monitor.covers(targets, thing: client.thing, members: members) {
                monitoredMetrics[client.id, default: []].formUnion(metrics)
                for b in p.behaviors {
                    let key = SlotKey(client: client.id, profile: p.name, behavior: b.name)
                    monitoredKeys.insert(key)
                    let values = try series(client, b.metric)
                    var slot = slots[key]
                    for (i, tick) in ticks.enumerated() {
                        guard let v = values[i] else {
                            if var s = slot, s.inAlarm, let last = s.lastDatapoint ?? s.startTime, tick - last >= Self.noDataLimit {
                                try emit(invalidated: &s, client: client, profile: p, behavior: b, tick: tick, reason: "no datapoint for 2 days",
                                         store: store, alerts: alerts, report: &report)
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
                            let vid = try store.newViolation(client: client.id, profile: p.name, behavior: b.json, at: tick)
                            s.violationId = vid
                            try record(ViolationRecord(violationId: vid, client: client.id, thingName: client.clientId, profile: p.name, behavior: b.json,
                                                       metricValue: v, type: "in-alarm", time: tick),
                                       profile: p, behavior: b, store: store, alerts: alerts, at: now, report: &report)
                            report.raised += 1
                        case .cleared(let violationId):
                            try record(ViolationRecord(violationId: violationId, client: client.id, thingName: client.clientId, profile: p.name, behavior: b.json,
                                                       metricValue: v, type: "alarm-cleared", time: tick),
                                       profile: p, behavior: b, store: store, alerts: alerts, at: now, report: &report)
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
            guard let client = clientsByID[key.client] else { continue }
            if s.inAlarm, let p = byName[key.profile] {
                let b = p.behaviors.first { $0.name == key.behavior }
                try emit(invalidated: &s, client: client, profile: p, behavior: b, behaviorName: key.behavior, tick: ticks.last!,
                         reason: "the thing is no longer a target of the profile", store: store, alerts: alerts, report: &report)
            }
            slots[key] = Slot(inAlarm: false, streak: 0, metric: s.metric, changed: true)
        }
        try store.flushEvents()
        try save(slots, clientThings: Dictionary(clients.compactMap { c in c.thing.map { (c.id, $0) } }, uniquingKeysWith: { a, _ in a }))
        try storeDatapoints(clients: clients, monitored: monitoredMetrics, ticks: ticks, previous: previous, latestRuns: latestRuns, series: series)
        try db.setMeta("metrics_full_visit", nil)
        if let maxClient = try alarms.maxClientID() { try db.setMeta("metrics_client_hwm", String(maxClient)) }
    }

    /// Stores the datapoints of the visited clients as runs: what each tick saw when it was
    /// evaluated, whatever arrives later. When the latest runs of every client are at hand
    /// (monitoring may have changed), pairs no longer monitored get a gap (no datapoints from the
    /// first tick on).
    func storeDatapoints(clients: [ClientInfo], monitored: [Int64: Set<String>], ticks: [Int64], previous: Int64?,
                         latestRuns all: [Int64: [Int64: MetricRun]]?, series: (ClientInfo, String) throws -> [Double?]) throws {
        let runs = db.metricRuns
        let before = previous ?? Self.earliest - 1
        // The latest runs of the visited clients, read a chunk of clients per statement when
        // those of every client are not at hand; the writes go in one batch at the end.
        let latestRuns = try all ?? runs.allLatest(upTo: before, clients: clients.filter { monitored[$0.id] != nil }.map(\.id))
        var writes: [MetricRuns.PairWrites] = []
        for client in clients {
            let metrics = monitored[client.id] ?? []
            var codes = Set<Int64>()
            for metric in metrics.sorted() {
                guard let code = MetricCode.code(metric) else { continue }
                codes.insert(code)
                let latest = latestRuns[client.id]?[code]
                var s = MetricSeries(latest: latest)
                var prev = previous
                for (t, v) in zip(ticks, try series(client, metric)) {
                    s.append(v.flatMap { Int64(exactly: $0) }, at: t, previous: prev)
                    prev = t
                }
                writes.append(MetricRuns.PairWrites(client: client.id, metric: code, runs: s.writes))
            }
            // Pairs no longer monitored: a gap from the first tick on.
            for (code, latest) in all?[client.id] ?? [:] where !codes.contains(code) && latest.start != nil {
                var s = MetricSeries(latest: latest)
                s.append(nil, at: ticks[0], previous: previous)
                writes.append(MetricRuns.PairWrites(client: client.id, metric: code, runs: s.writes))
            }
        }
        try runs.write(writes)
    }

    func record(_ e: ViolationRecord, profile: Defender.Profile, behavior: Behavior?, store: ViolationStore, alerts: Alerts, at now: Int64,
                report: inout Report) throws {
        try store.insert(e)
        if let topic = profile.alertTopic, !(behavior?.suppressAlerts ?? false) {
            try alerts.publish(e, topicARN: topic, at: now)
            report.alerts += 1
        }
    }

    func emit(invalidated s: inout Slot, client: ClientInfo, profile: Defender.Profile, behavior: Behavior?, behaviorName: String? = nil,
              tick: Int64, reason: String, store: ViolationStore, alerts: Alerts, report: inout Report) throws {
        guard s.inAlarm, let vid = s.violationId else { return }
        let bjson = behavior?.json ?? jsonObject([("name", .string(behaviorName ?? ""))])
        try record(ViolationRecord(violationId: vid, client: client.id, thingName: client.clientId, profile: profile.name, behavior: bjson,
                                   metricValue: s.lastValue, type: "alarm-invalidated", time: tick, verificationState: "UNKNOWN",
                                   verificationDescription: reason),
                   profile: profile, behavior: behavior, store: store, alerts: alerts, at: tick, report: &report)
        report.invalidated += 1
        s.inAlarm = false
    }
    /// Writes changed slots back; a slot with no alarm and no streak is deleted.
    func save(_ slots: [SlotKey: Slot], clientThings: [Int64: Int64]) throws {
        let writer = try alarms.slotWriter()
        for (key, s) in slots where s.changed {
            if let thing = s.thing ?? clientThings[key.client] { try db.touch(thing) }
            if !s.inAlarm && s.streak == 0 {
                try writer.delete(client: key.client, profile: key.profile, behavior: key.behavior)
            } else {
                try writer.put(client: key.client, profile: key.profile, behavior: key.behavior, s)
            }
        }
        try writer.flush()
    }
}
