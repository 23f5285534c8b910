// FleetIndex: the cloud-side metrics of one client, derived from its lifecycle event history
// at any tick: aws:disconnect-duration from the connectivity at the tick, and the event counts
// of the 5-minute period ending at the tick. Nothing here is stored per tick.
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

    /// Loads a client's events with timestamps up to `until`.
    public static func load(_ c: Connection, client: Int64, until: Int64) throws -> PresenceHistory {
        let rows = try c.query("SELECT ts, type, session, version, reason FROM presence_event WHERE client = ? AND ts <= ?",
                               [client, until]) { s in
            let kind = LifecycleEvent.Kind(rawValue: s.int(1)) ?? .connected
            return Event(mark: PresenceMark(timestamp: s.int(0), kind: kind, session: s.text(2), version: s.int(3), reason: s.optionalText(4)),
                         failed: kind == .connectFailed)
        }
        return PresenceHistory(events: rows)
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
            return ticks.map { tick in Double(count(metric, tick: tick)) }
        }
    }

    /// Whole minutes since the disconnect, or 0 while connected.
    public static func disconnectDuration(_ mark: PresenceMark, at tick: Int64) -> Double {
        mark.connected ? 0 : Double(max(0, (tick - mark.timestamp) / 60_000))
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
