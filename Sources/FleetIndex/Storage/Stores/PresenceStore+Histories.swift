// FleetIndex storage: the lifecycle histories of many clients in one statement, for the
// evaluation cycle (one round trip per chunk of clients instead of one per client on PostgreSQL).
import FleetSQLite
import FleetStorage

extension PresenceStore {
    /// The events of each of `clients` with timestamps in [from, through], as connectivity
    /// marks (a client with none is absent). The order within a client is the table's;
    /// PresenceHistory puts them in canonical order.
    func events(clients: [Int64], from: Int64, through: Int64) throws -> [Int64: [PresenceMark]] {
        var out: [Int64: [PresenceMark]] = [:]
        guard !clients.isEmpty else { return out }
        try c.forEach("""
            SELECT client, ts, type, session, version, reason FROM presence_event
            WHERE client IN \(c.dialect.boundIntegerList) AND ts >= ? AND ts <= ?
            """, [SearchStore.idList(clients), from, through]) { s in
            if let m = PresenceMark(row: s, from: 1) { out[s.int(0), default: []].append(m) }
        }
        return out
    }
}
