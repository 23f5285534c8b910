// FleetIndex: dynamic thing groups: a query whose members are kept in thing_group_member,
// refreshed on create/update and on every evaluation cycle, with a log of who joined and left.
import FleetQuery
import FleetSQLite
import Foundation

/// Dynamic group operations and the group report.
public struct DynamicGroups {
    public let db: FleetDatabase
    var store: DynamicGroupStore { db.dynamicGroupStore }
    var things: ThingStore { db.things }
    public init(_ db: FleetDatabase) { self.db = db }

    public func createDynamicThingGroup(name: String, query: String, indexName: String?, queryVersion: String?,
                                        properties: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        if let indexName, indexName != "AWS_Things" { throw FleetError.invalid("indexName must be AWS_Things") }
        guard !query.isEmpty, query.utf8.count <= 1000 else { throw FleetError.invalid("queryString must be 1 to 1000 characters") }
        if let properties { try Registry(db).validateGroupProperties(properties) }
        _ = try Search(db).compile(query, at: now)
        return try db.transaction {
            if try store.exists(named: name) {
                throw FleetError.alreadyExists("Thing group \(name) already exists")
            }
            let gid = FleetDatabase.uuid()
            let id = try store.insert(name: name, groupId: gid, properties: properties?.compact, query: query,
                                      queryVersion: queryVersion ?? "2017-09-30", at: now)
            db.dynamicGroupCreated()
            _ = try refresh(group: id, query: query, at: now, reason: "the group was created")
            return jsonObject([("thingGroupName", .string(name)), ("thingGroupArn", .string(db.groupARN(name))), ("thingGroupId", .string(gid)),
                               ("indexName", .string("AWS_Things")), ("queryString", .string(query)), ("queryVersion", .string(queryVersion ?? "2017-09-30"))])
        }
    }

    func dynamicGroup(_ name: String) throws -> (Int64, String, Int64) {
        try Validation.name(name, "thingGroupName")
        guard let g = try store.group(named: name) else {
            throw FleetError.notFound("Thing group \(name) cannot be found.")
        }
        guard let q = g.1 else { throw FleetError.invalid("\(name) is a static thing group") }
        return (g.0, q, g.2)
    }

    public func updateDynamicThingGroup(name: String, query: String?, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        if let query { _ = try Search(db).compile(query, at: now) }
        return try db.transaction {
            let (id, old, version) = try dynamicGroup(name)
            if let expectedVersion, expectedVersion != version { throw FleetError.versionConflict("The version of thing group \(name) is \(version), not \(expectedVersion)") }
            let q = query ?? old
            try store.setQuery(group: id, q)
            _ = try refresh(group: id, query: q, at: now, reason: "the group's query was changed")
            return jsonObject([("version", .int(version + 1))])
        }
    }

    public func deleteDynamicThingGroup(name: String, expectedVersion: Int64?) throws -> JSONValue {
        try db.transaction {
            guard try store.exists(named: name) else { return .object([]) }
            let (id, _, version) = try dynamicGroup(name)
            if let expectedVersion, expectedVersion != version { throw FleetError.versionConflict("The version of thing group \(name) is \(version), not \(expectedVersion)") }
            try store.delete(group: id)
            return .object([])
        }
    }

    /// Brings one group's membership in line with its query; logs joins and leaves.
    /// `incremental` re-checks only the things in thing_touch (those changed since the last
    /// refresh); a query that uses `now` always runs over the whole fleet, since time alone
    /// moves things in and out of it.
    func refresh(group id: Int64, query: String, at now: Int64, reason: String, touched: Touched? = nil) throws -> (joined: Int, left: Int) {
        let search = Search(db)
        let compiled: Search.Compiled
        do { compiled = try search.compile(query, at: now, plan: touched == nil) } catch {
            // A query that no longer binds (an index mode turned off) leaves the membership as it was.
            return (0, 0)
        }
        let matching: Set<Int64>
        let current: Set<Int64>
        let gname = try groupName(id)
        if let touched, !query.contains("now") {
            // The Evaluator re-checks the changed things in memory; nobody else can have moved.
            // A dynamic group has no parent or children, so a changed thing is a member exactly
            // when the group's name is among its groups.
            var ids = Set<Int64>(), members = Set<Int64>()
            for (thing, state) in touched.states {
                if Evaluator.evaluate(compiled.bound, state) { ids.insert(thing) }
                if state.groupNames.contains(gname) { members.insert(thing) }
            }
            matching = ids
            current = members
        } else {
            matching = Set(try search.allIDs(compiled))
            current = Set(try things.members(of: id))
        }
        let created = try store.createdAt(group: id)
        var joined = 0, left = 0
        let leaving = current.subtracting(matching).sorted(), joining = matching.subtracting(current).sorted()
        // A full build's names and membership counts, read a chunk of things per statement.
        let known = touched == nil ? try things.namesAndMembershipCounts(of: leaving + joining) : (names: [:], counts: [:])
        func thingName(_ t: Int64) throws -> String {
            if let name = touched?.states[t]?.name ?? known.names[t] { return name }
            return try things.name(of: t) ?? "?"
        }
        let writer = DynamicGroupStore.MembershipWriter(store)
        let tracks = touched == nil && db.tracksChanges
        for t in leaving {
            try writer.leave(group: id, thing: t)
            if let touched { try touched.changed(t, group: gname, joined: false, db: db) } else if tracks { try writer.touch(t) }
            try writer.log(group: id, thingName: try thingName(t), change: "left", at: now, reason: "no longer matches the query (\(reason))")
            left += 1
        }
        for t in joining {
            // At most 10 groups per thing: an older dynamic group keeps its place over this one.
            let count = try touched?.direct[t].map(Int64.init) ?? known.counts[t] ?? things.membershipCount(of: t)
            if count >= 10 {
                guard let newer = try things.newestDynamicGroup(of: t, createdAfter: created) else { continue }
                try db.removeMember(group: newer, thing: t)
                try touched?.changed(t, group: try groupName(newer), joined: false, db: db)
                try writer.log(group: newer, thingName: try thingName(t), change: "left", at: now,
                                reason: "an older dynamic group took its place (10 groups per thing)")
            }
            try writer.join(group: id, thing: t, at: now)
            if let touched { try touched.changed(t, group: gname, joined: true, db: db) } else if tracks { try writer.touch(t) }
            try writer.log(group: id, thingName: try thingName(t), change: "joined", at: now, reason: "matches the query (\(reason))")
            joined += 1
        }
        try writer.flush()
        // Joins and leaves above write rows directly and are counted here, once for the group.
        try db.countMembers(joined - left, group: id)
        try store.setActive(group: id)
        return (joined, left)
    }

    func groupName(_ group: Int64) throws -> String {
        try things.groupName(of: group) ?? ""
    }

    /// The things changed since the last refresh, held in memory for the Evaluator while the
    /// groups are refreshed in turn (a join or leave changes the thing's thingGroupNames for
    /// the groups after it).
    final class Touched {
        var states: [Int64: ThingState]
        /// Direct group memberships per thing (the 10-groups rule).
        var direct: [Int64: Int] = [:]

        init(_ db: FleetDatabase) throws {
            states = try Search(db).thingStates(inTable: "thing_touch")
            direct = try db.dynamicGroupStore.membershipCountsOfTouched()
        }

        /// A join or leave of a thing that is already in thing_touch.
        func changed(_ thing: Int64, group: String, joined: Bool, db: FleetDatabase) throws {
            if joined {
                states[thing]?.groupNames.append(group)
                direct[thing, default: 0] += 1
            } else {
                states[thing]?.groupNames.removeAll { $0 == group }
                direct[thing, default: 1] -= 1
            }
        }
    }

    /// Refreshes every dynamic group, oldest first: incrementally over the things changed
    /// since the last refresh, unless a change touched every thing (`full`).
    public func refreshAll(at now: Int64, reason: String, full: Bool = false) throws -> (joined: Int, left: Int) {
        let groups = try store.allGroups()
        let flagged = try db.meta("groups_full_refresh") != nil
        let everything = full || flagged
        let trace = ProcessInfo.processInfo.environment["FLEETDEX_TRACE"] != nil  // per-group timings on stderr
        var t0 = Date()
        let touched = everything || groups.isEmpty ? nil : try Touched(db)
        if trace { FileHandle.standardError.write(Data("refresh: full=\(everything) touched=\(touched?.states.count ?? -1) load \(Int(Date().timeIntervalSince(t0) * 1000)) ms\n".utf8)) }
        var total = (joined: 0, left: 0)
        for (id, q) in groups {
            t0 = Date()
            let r = try refresh(group: id, query: q, at: now, reason: reason, touched: touched)
            if trace { FileHandle.standardError.write(Data("refresh: \(q): +\(r.joined) -\(r.left) \(Int(Date().timeIntervalSince(t0) * 1000)) ms\n".utf8)) }
            total.joined += r.joined
            total.left += r.left
        }
        try store.clearTouched()
        try db.setMeta("groups_full_refresh", nil)
        return total
    }

    /// The group report: each dynamic group's query, status, members and the joins and
    /// leaves since `since`.
    public func report(group: String?, since: Int64) throws -> JSONValue {
        if let group { _ = try dynamicGroup(group) }
        let groups = try store.groups(named: group)
        var out: [JSONValue] = []
        for g in groups {
            let count = try things.memberCount(of: g.id)
            let log = try store.log(group: g.id, since: since).map {
                ($0.change, jsonObject([("thingName", .string($0.thingName)), ("time", .string(Timestamp.iso($0.time))), ("reason", .string($0.reason))]))
            }
            out.append(jsonObject([
                ("thingGroupName", .string(g.name)), ("queryString", .string(g.query)), ("status", .string(g.status)), ("memberCount", .int(count)),
                ("joined", .array(log.filter { $0.0 == "joined" }.map(\.1))),
                ("left", .array(log.filter { $0.0 == "left" }.map(\.1))),
            ]))
        }
        return jsonObject([("since", .string(Timestamp.iso(since))), ("groups", .array(out))])
    }
}
