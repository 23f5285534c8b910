// FleetIndex: the cloud-side metrics of one client, derived from its lifecycle event history
// at any tick: aws:disconnect-duration from the connectivity at the tick, and the event counts
// of the 5-minute period ending at the tick; and the datapoints as evaluated, stored as runs
// (`metric_run`): a few rows per outage, not a row per tick.
import FleetSQLite

/// One client's event history, sorted, and the metrics computed from it.
public struct PresenceHistory {
    public struct Event: Equatable {
        public var mark: PresenceMark
        public var failed: Bool
    }

    /// Events in canonical order: time, then connect before disconnect, then version, session.
    public private(set) var events: [Event]

    public init(events: [Event]) {
        self.events = events.sorted { a, b in
            if a.mark.timestamp != b.mark.timestamp { return a.mark.timestamp < b.mark.timestamp }
            if a.mark.kind.rawValue != b.mark.kind.rawValue { return a.mark.kind.rawValue < b.mark.kind.rawValue }
            if a.mark.version != b.mark.version { return a.mark.version < b.mark.version }
            return a.mark.session < b.mark.session
        }
    }

    /// Loads a client's events with timestamps from 1970 up to `until` (a stored timestamp
    /// outside 1970–9999 is skipped: it cannot be ordered or subtracted safely).
    public static func load(_ c: StoreConnection, client: Int64, until: Int64) throws -> PresenceHistory {
        let rows = try PresenceStore(c: c).events(client: client, from: EvaluationCycle.earliest, through: min(until, EvaluationCycle.latest))
        return PresenceHistory(events: rows.map { Event(mark: $0, failed: $0.kind == .connectFailed) })
    }

    /// The histories of `clients` (every one of them, empty when it has no event), read a
    /// chunk of clients per statement.
    static func load(_ c: StoreConnection, clients: [Int64], until: Int64) throws -> [Int64: PresenceHistory] {
        var out: [Int64: PresenceHistory] = [:]
        out.reserveCapacity(clients.count)
        let store = PresenceStore(c: c)
        for chunk in clients.chunks(of: StoreBatch.ids) {
            let part = Array(chunk)
            let rows = try store.events(clients: part, from: EvaluationCycle.earliest, through: min(until, EvaluationCycle.latest))
            for id in part {
                out[id] = PresenceHistory(events: (rows[id] ?? []).map { Event(mark: $0, failed: $0.kind == .connectFailed) })
            }
        }
        return out
    }

    public static let period: Int64 = 300_000

    /// The value of `metric` at each tick (ascending); nil where there is no datapoint.
    public func values(_ metric: String, ticks: [Int64]) -> [Double?] {
        switch metric {
        case "aws:disconnect-duration":
            var out: [Double?] = []
            var winner: PresenceMark? = nil
            var i = 0
            for tick in ticks {
                while i < events.count && events[i].mark.timestamp <= tick {
                    let e = events[i]
                    if !e.failed, winner.map({ e.mark.isNewer(than: $0) }) ?? true { winner = e.mark }
                    i += 1
                }
                out.append(winner.map { PresenceHistory.disconnectDuration($0, at: tick) })
            }
            return out
        default:
            // No datapoint before the client's first event.
            let first = events.first?.mark.timestamp
            return ticks.map { tick in first.map { $0 <= tick } == true ? Double(count(metric, tick: tick)) : nil }
        }
    }

    /// Whole minutes since the disconnect, or 0 while connected. A stored timestamp outside
    /// 1970–9999 counts as 1970 (never an overflow).
    public static func disconnectDuration(_ mark: PresenceMark, at tick: Int64) -> Double {
        guard !mark.connected else { return 0 }
        let since = min(max(mark.timestamp, EvaluationCycle.earliest), EvaluationCycle.latest)
        let (d, overflow) = tick.subtractingReportingOverflow(since)
        return overflow ? 0 : Double(max(0, d / 60_000))
    }

    /// Events of the metric's kind in the period (tick − 5 min, tick].
    func count(_ metric: String, tick: Int64) -> Int {
        var n = 0
        // events are sorted by time: binary search the period's start
        var lo = 0, hi = events.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if events[mid].mark.timestamp <= tick - PresenceHistory.period { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        while i < events.count && events[i].mark.timestamp <= tick {
            let e = events[i].mark
            switch metric {
            case "aws:num-disconnects": if e.kind == .disconnected { n += 1 }
            case "aws:num-connection-attempts": if e.kind == .connected || e.kind == .connectFailed { n += 1 }
            case "aws:num-authorization-failures":
                if e.kind == .connectFailed && (e.reason == nil || e.reason == "AUTHORIZATION_FAILED") { n += 1 }
            default: break
            }
            i += 1
        }
        return n
    }
}

/// The metrics' codes in `metric_run.metric`.
enum MetricCode {
    static let names = ["aws:disconnect-duration", "aws:num-disconnects", "aws:num-connection-attempts", "aws:num-authorization-failures"]
    static func code(_ name: String) -> Int64? { names.firstIndex(of: name).map { Int64($0 + 1) } }
    /// A metric's bit in a set of metrics.
    static func bit(_ code: Int64) -> UInt8 { (1...4).contains(code) ? UInt8(1) << UInt8(code - 1) : 0 }
    static func bit(_ name: String) -> UInt8 { code(name).map(bit) ?? 0 }
}

/// A run of one client's datapoints of one metric as the evaluation saw them, from `first`
/// until the next run of the pair (migration 0008 describes the row).
struct MetricRun: Equatable {
    var first: Int64
    var last: Int64?
    var start: Int64?
    var step: Int64
    /// The row exists (keyed by client, metric, first); `dirty`: it changed.
    var stored = false
    var dirty = false

    /// The datapoint at an evaluated tick `t` of the run's span; nil: none.
    func value(at t: Int64) -> Int64? {
        guard let start else { return nil }
        if let last, t > last { return 0 }
        return MetricRun.linear(start, step, from: first, to: t)
    }

    /// start + step × whole ticks from `from` to `to`; nil on overflow or before `from`.
    static func linear(_ start: Int64, _ step: Int64, from: Int64, to: Int64) -> Int64? {
        let (d, o1) = to.subtractingReportingOverflow(from)
        guard !o1, d >= 0 else { return nil }
        let (m, o2) = step.multipliedReportingOverflow(by: d / EvaluationCycle.tick)
        let (v, o3) = start.addingReportingOverflow(m)
        return o2 || o3 ? nil : v
    }
}

/// The runs of one (client, metric), extended tick by tick: a datapoint that continues the
/// current run changes nothing (an open run predicts it, a closed one rests at 0); the second
/// datapoint of an open run sets its step; anything else closes the open run at the previous
/// tick and starts a new run.
struct MetricSeries {
    private(set) var current: MetricRun?
    private(set) var changed: [MetricRun] = []

    init(latest: MetricRun?) { current = latest }

    /// Appends the datapoint `v` (nil: none) of tick `t`; `previous` is the evaluated tick before it.
    mutating func append(_ v: Int64?, at t: Int64, previous: Int64?) {
        guard var cur = current else {
            if let v { current = MetricRun(first: t, last: v == 0 ? t : nil, start: v, step: 0) }
            return
        }
        if cur.value(at: t) == v { return }
        if let v, cur.last == nil, let s = cur.start, let previous, cur.first == previous {
            let k = (t - cur.first) / EvaluationCycle.tick
            let (diff, o) = v.subtractingReportingOverflow(s)
            if !o, k > 0, diff % k == 0 {
                cur.step = diff / k
                cur.dirty = true
                current = cur
                return
            }
        }
        if cur.last == nil {
            cur.last = max(previous ?? cur.first, cur.first)
            cur.dirty = true
            current = cur
            if cur.value(at: t) == v { return }
        }
        if cur.dirty || !cur.stored { changed.append(cur) }
        current = MetricRun(first: t, last: v == nil || v == 0 ? t : nil, start: v, step: 0)
    }

    /// Every run to write: changed rows and new ones.
    var writes: [MetricRun] {
        guard let cur = current, cur.dirty || !cur.stored else { return changed }
        return changed + [cur]
    }
}
