// FleetIndex storage: dynamic thing groups (the thing_group rows with a query), their
// join/leave log (group_log), and the change log they refresh from (thing_touch).
import FleetPostgres
import FleetSQLite
import FleetStorage

/// A dynamic group as its refresh and its report read it.
struct DynamicGroupRecord {
    var id: Int64
    var name: String
    var query: String
    var status: String

    /// Columns: `id, name, query, status`.
    init(row s: StoreRow) {
        (id, name, query, status) = (s.int(0), s.text(1), s.text(2), s.optionalText(3) ?? "ACTIVE")
    }
}

/// One join or leave of a group's log.
struct GroupLogRecord {
    var thingName: String
    var change: String
    var time: Int64
    var reason: String

    /// Columns: `thing_name, change, time, reason`.
    init(row s: StoreRow) {
        (thingName, change, time, reason) = (s.text(0), s.text(1), s.int(2), s.text(3))
    }
}

/// Dynamic groups, the group log and thing_touch.
struct DynamicGroupStore {
    let c: StoreConnection
    private static let touchOne = "INSERT INTO thing_touch(thing) VALUES (?) ON CONFLICT DO NOTHING"
    private static let touchMembers = "INSERT INTO thing_touch(thing) SELECT thing FROM thing_group_member WHERE group_id = ? ON CONFLICT DO NOTHING"
    private static let touchAlarm =
        "INSERT INTO thing_touch(thing) SELECT thing FROM alarm WHERE client = ? AND profile = ? AND behavior = ? AND thing IS NOT NULL ON CONFLICT DO NOTHING"

    // MARK: the change log

    /// Notes that a thing's searchable state changed.
    func touch(_ thing: Int64) throws {
        try c.execute(Self.touchOne, [thing])
    }

    /// Notes that every member of a group changed.
    func touchMembers(of group: Int64) throws {
        try c.execute(Self.touchMembers, [group])
    }

    /// Notes that the thing of an alarm changed.
    func touchThings(ofAlarm client: Int64, profile: String, behavior: String) throws {
        try c.execute(Self.touchAlarm, [client, profile, behavior])
    }

    /// Empties the change log (after a refresh).
    func clearTouched() throws {
        try c.execute("DELETE FROM thing_touch")
    }

    /// Direct group memberships of every changed thing.
    func membershipCountsOfTouched() throws -> [Int64: Int] {
        var direct: [Int64: Int] = [:]
        try c.forEach("SELECT thing, count(*) FROM thing_group_member WHERE thing IN (SELECT thing FROM thing_touch) GROUP BY thing") {
            direct[$0.int(0)] = Int($0.int(1))
        }
        return direct
    }

    // MARK: groups

    /// Whether any dynamic group exists.
    func anyDynamicGroup() throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_group WHERE query IS NOT NULL LIMIT 1") != nil
    }

    func exists(named name: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_group WHERE name = ?", [name]) != nil
    }

    /// Inserts a dynamic group (status BUILDING) with its ancestor row; returns its row id.
    func insert(name: String, groupId: String, properties: String?, query: String, queryVersion: String, at now: Int64) throws -> Int64 {
        let id = try c.scalar("""
            INSERT INTO thing_group(name, name_lower, group_id, properties, created_at, query, query_version, index_name, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'AWS_Things', 'BUILDING') RETURNING id
            """, [name, name.lowercased(), groupId, properties, now, query, queryVersion])?.int ?? 0
        try c.execute("INSERT INTO thing_group_ancestor(group_id, ancestor, depth) VALUES (?, ?, 0)", [id, id])
        return id
    }

    /// A group's id, query (nil: a static group) and version.
    func group(named name: String) throws -> (id: Int64, query: String?, version: Int64)? {
        try c.query("SELECT id, query, version FROM thing_group WHERE name = ?", [name], { ($0.int(0), $0.optionalText(1), $0.int(2)) }).first
    }

    /// A new query: status REBUILDING, version + 1.
    func setQuery(group: Int64, _ query: String) throws {
        try c.execute("UPDATE thing_group SET query = ?, status = 'REBUILDING', version = version + 1 WHERE id = ?", [query, group])
    }

    func setActive(group: Int64) throws {
        try c.execute("UPDATE thing_group SET status = 'ACTIVE' WHERE id = ?", [group])
    }

    func delete(group: Int64) throws {
        try c.execute("DELETE FROM thing_group WHERE id = ?", [group])
    }

    func createdAt(group: Int64) throws -> Int64 {
        try c.scalar("SELECT created_at FROM thing_group WHERE id = ?", [group])?.int ?? 0
    }

    /// Every dynamic group, oldest first.
    func allGroups() throws -> [(id: Int64, query: String)] {
        try c.query("SELECT id, query FROM thing_group WHERE query IS NOT NULL ORDER BY created_at, id") { ($0.int(0), $0.text(1)) }
    }

    /// The dynamic groups in name order (only `name` when given).
    func groups(named name: String?) throws -> [DynamicGroupRecord] {
        var sql = "SELECT id, name, query, status FROM thing_group WHERE query IS NOT NULL"
        var binds: [SQLiteValue] = []
        if let name {
            sql += " AND name = ?"
            binds.append(.text(name))
        }
        return try c.query(sql + " ORDER BY name", binds, DynamicGroupRecord.init(row:))
    }

    // MARK: the group log

    func log(group: Int64, thingName: String, change: String, at now: Int64, reason: String) throws {
        // The log is distributed by the thing's key.
        let (sql, binds) = c.keyedInsert(into: "group_log", keyColumn: "thing", name: thingName, columns: "group_id, thing_name, change, time, reason",
                                         values: "?, ?, ?, ?, ?", [group, thingName, change, now, reason])
        try c.execute(sql, binds)
    }

    /// The joins and leaves of a refresh. SQLite: written at once, a statement each.
    /// PostgreSQL: kept, and written by `flush` as one DELETE, one INSERT of memberships and
    /// one INSERT of log rows (in the order logged) over arrays per `StoreBatch.rows`.
    final class MembershipWriter {
        let store: DynamicGroupStore
        var c: StoreConnection { store.c }
        private var leaves: [(group: Int64, thing: Int64)] = []
        private var joins: [(group: Int64, thing: Int64, at: Int64)] = []
        private var logs: [(group: Int64, thingName: String, change: String, at: Int64, reason: String)] = []
        private var touches: [Int64] = []
        init(_ store: DynamicGroupStore) { self.store = store }

        func leave(group: Int64, thing: Int64) throws {
            guard c.dialect.writesBatchesAsArrays else {
                try c.execute("DELETE FROM thing_group_member WHERE group_id = ? AND thing = ?", [group, thing])
                return
            }
            leaves.append((group, thing))
        }

        func join(group: Int64, thing: Int64, at now: Int64) throws {
            guard c.dialect.writesBatchesAsArrays else {
                try c.execute("INSERT INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?)", [group, thing, now])
                return
            }
            joins.append((group, thing, now))
        }

        func log(group: Int64, thingName: String, change: String, at now: Int64, reason: String) throws {
            guard c.dialect.writesBatchesAsArrays, c.dialect.nameKey != nil else {
                try store.log(group: group, thingName: thingName, change: change, at: now, reason: reason)
                return
            }
            logs.append((group, thingName, change, now, reason))
        }

        /// Notes that a thing changed (`FleetDatabase.touch`, for a database that tracks changes).
        func touch(_ thing: Int64) throws {
            guard c.dialect.writesBatchesAsArrays else { try store.touch(thing); return }
            touches.append(thing)
        }

        func flush() throws {
            for d in leaves.chunks(of: StoreBatch.rows) {
                try c.execute("""
                    DELETE FROM thing_group_member AS m USING unnest(?::bigint[], ?::bigint[]) AS d(group_id, thing)
                    WHERE m.group_id = d.group_id AND m.thing = d.thing
                    """, [PostgresArray.literal(d.map(\.group)), PostgresArray.literal(d.map(\.thing))])
            }
            for j in joins.chunks(of: StoreBatch.rows) {
                try c.execute("INSERT INTO thing_group_member(group_id, thing, added_at) SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[])",
                              [PostgresArray.literal(j.map(\.group)), PostgresArray.literal(j.map(\.thing)), PostgresArray.literal(j.map(\.at))])
            }
            if let keyOfName = c.dialect.nameKey(of: "u.thing_name") {
                // The log is distributed by the thing's key, computed from the name as a single insert does.
                for l in logs.chunks(of: StoreBatch.rows) {
                    try c.execute("""
                        INSERT INTO group_log(thing, group_id, thing_name, change, time, reason)
                        SELECT \(keyOfName), u.group_id, u.thing_name, u.change, u.time, u.reason
                        FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[]) WITH ORDINALITY AS u(group_id, thing_name, change, time, reason, n)
                        ORDER BY u.n
                        """, [PostgresArray.literal(l.map(\.group)), PostgresArray.literal(l.map(\.thingName)), PostgresArray.literal(l.map(\.change)),
                              PostgresArray.literal(l.map(\.at)), PostgresArray.literal(l.map(\.reason))])
                }
            }
            try store.touch(touches)
            leaves.removeAll(); joins.removeAll(); logs.removeAll(); touches.removeAll()
        }
    }

    /// A group's joins and leaves since `since`, in time order.
    func log(group: Int64, since: Int64) throws -> [GroupLogRecord] {
        try c.query("SELECT thing_name, change, time, reason FROM group_log WHERE group_id = ? AND time >= ? ORDER BY time, id", [group, since], GroupLogRecord.init(row:))
    }
}
