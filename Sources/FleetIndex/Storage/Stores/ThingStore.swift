// FleetIndex storage: the registry's rows: things, thing types, the static group hierarchy
// (thing_group, thing_group_ancestor) and group membership with its counted size.
import FleetQuery
import FleetSQLite
import FleetStorage

/// One thing as the registry reads it (attributes decoded once, when loaded).
struct ThingRecord {
    var id: Int64
    var name: String
    var thingId: String
    var typeName: String?
    var attributes: [(String, String)]
    var version: Int64

    /// Columns: `t.id, t.name, t.thing_id, y.name, t.attributes, t.version`.
    init(row s: StoreRow) {
        self.init(id: s.int(0), name: s.text(1), thingId: s.text(2), typeName: s.optionalText(3),
                  attributes: Registry.decodeAttributes(s.text(4)), version: s.int(5))
    }

    init(id: Int64, name: String, thingId: String, typeName: String?, attributes: [(String, String)], version: Int64) {
        (self.id, self.name, self.thingId, self.typeName, self.attributes, self.version) = (id, name, thingId, typeName, attributes, version)
    }
}

/// A thing in a ListThings page.
struct ThingSummaryRecord {
    var name: String
    var typeName: String?
    var attributes: [(String, String)]
    var version: Int64

    /// Columns: `t.name, y.name, t.attributes, t.version`.
    init(row s: StoreRow) {
        (name, typeName, attributes, version) = (s.text(0), s.optionalText(1), Registry.decodeAttributes(s.text(2)), s.int(3))
    }
}

/// A thing type (its properties parsed once, when loaded).
struct ThingTypeRecord {
    var name: String
    var properties: JSONValue?
    var deprecated: Bool
    var deprecatedAt: Int64?
    var createdAt: Int64
    var typeId: String

    /// Columns: `name, properties, deprecated, deprecated_at, created_at, type_id`.
    init(row s: StoreRow) {
        name = s.text(0)
        properties = s.optionalText(1).flatMap { try? JSONValue.parse($0) }
        deprecated = s.int(2) != 0
        deprecatedAt = s.optionalInt(3)
        createdAt = s.int(4)
        typeId = s.text(5)
    }
}

/// The identifying columns of a thing group (static or dynamic), with its properties as
/// stored text (CreateThingGroup compares them as written).
struct ThingGroupKey {
    var id: Int64
    var groupId: String
    var version: Int64
    var storedProperties: String?
    var parent: Int64?
    var query: String?
    var createdAt: Int64
    var isDynamic: Bool { query != nil }

    /// Columns: `id, group_id, version, properties, parent, query, created_at`.
    init(row s: StoreRow) {
        (id, groupId, version, storedProperties) = (s.int(0), s.text(1), s.int(2), s.optionalText(3))
        (parent, query, createdAt) = (s.optionalInt(4), s.optionalText(5), s.int(6))
    }
}

/// A thing group as DescribeThingGroup shows it (properties parsed once).
struct ThingGroupRecord {
    var id: Int64
    var groupId: String
    var version: Int64
    var properties: JSONValue?
    var parentName: String?
    var createdAt: Int64
    var query: String?
    var queryVersion: String?
    var indexName: String?
    var status: String?

    init(row s: StoreRow) {
        (id, groupId, version) = (s.int(0), s.text(1), s.int(2))
        properties = s.optionalText(3).flatMap { try? JSONValue.parse($0) }
        (parentName, createdAt, query, queryVersion, indexName, status) =
            (s.optionalText(4), s.int(5), s.optionalText(6), s.optionalText(7), s.optionalText(8), s.optionalText(9))
    }
}

/// Things, types, static groups and membership.
struct ThingStore {
    let c: StoreConnection

    // MARK: things

    func thing(named name: String) throws -> ThingRecord? {
        try c.query("""
            SELECT t.id, t.name, t.thing_id, y.name, t.attributes, t.version
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.name = ?
            """, [name], ThingRecord.init(row:)).first
    }

    /// A thing's attributes, decoded; nil when there is no such thing.
    func attributes(of thing: Int64) throws -> [(String, String)]? {
        try c.scalar("SELECT attributes FROM thing WHERE id = ?", [thing])?.string.map(Registry.decodeAttributes)
    }

    /// A thing's name, or nil.
    func name(of thing: Int64) throws -> String? {
        try c.scalar("SELECT name FROM thing WHERE id = ?", [thing])?.string
    }

    /// The names of `things` (a chunk of 1000 per statement), and how many groups each is
    /// directly in.
    func namesAndMembershipCounts(of things: [Int64]) throws -> (names: [Int64: String], counts: [Int64: Int64]) {
        var names: [Int64: String] = [:], counts: [Int64: Int64] = [:]
        for chunk in things.chunks(of: StoreBatch.ids) {
            let list = SearchStore.idList(Array(chunk))
            try c.forEach("""
                SELECT t.id, t.name, (SELECT count(*) FROM thing_group_member AS m WHERE m.thing = t.id)
                FROM thing AS t WHERE t.id IN \(c.dialect.boundIntegerList)
                """, [list]) { s in
                names[s.int(0)] = s.text(1)
                counts[s.int(0)] = s.int(2)
            }
        }
        return (names, counts)
    }

    /// Inserts a thing at version 1 and returns its row id.
    func insertThing(name: String, thingId: String, type: Int64?, attributes: [(String, String)], at now: Int64) throws -> Int64 {
        let (sql, binds) = c.keyedInsert(into: "thing", keyColumn: "id", name: name,
                                         columns: "name, name_lower, thing_id, type, attributes, version, created_at", values: "?, ?, ?, ?, ?, 1, ?",
                                         [name, name.lowercased(), thingId, type, Registry.encodeAttributes(attributes), now], suffix: " RETURNING id")
        return try c.scalar(sql, binds)?.int ?? 0
    }

    /// Gives a thing the client (and that client's connectivity and alarms) of the same id.
    func linkClient(thing: Int64, clientID name: String) throws {
        try c.execute("UPDATE client SET thing = ? WHERE client_id = ?", [thing, name])
        try c.execute("""
            UPDATE thing SET connected = coalesce((SELECT connected FROM client WHERE client_id = ?), false),
                conn_ts = (SELECT ts FROM client WHERE client_id = ?),
                disconnect_reason = (SELECT CASE WHEN NOT connected THEN reason END FROM client WHERE client_id = ?)
            WHERE id = ?
            """, [name, name, name, thing])
        try c.execute("UPDATE alarm SET thing = ? WHERE client = (SELECT id FROM client WHERE client_id = ?)", [thing, name])
    }

    /// The stored type id of a thing (nil: none).
    func typeOf(thing: Int64) throws -> Int64? {
        try c.scalar("SELECT type FROM thing WHERE id = ?", [thing])?.int
    }

    /// Sets the type and attributes, bumping the version.
    func updateThing(_ thing: Int64, type: Int64?, attributes: [(String, String)]) throws {
        try c.execute("UPDATE thing SET type = ?, attributes = ?, version = version + 1 WHERE id = ?",
                      [type, Registry.encodeAttributes(attributes), thing])
    }

    /// Whether a principal (FleetDevices' thing_principal) is attached to the thing.
    func hasPrincipal(thing: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_principal WHERE thing = ? LIMIT 1", [thing]) != nil
    }

    /// Deletes a thing (shadows, memberships, index rows go by cascade).
    func deleteThing(_ thing: Int64) throws {
        try c.execute("DELETE FROM thing WHERE id = ?", [thing])
    }

    /// A ListThings page: names after `after`, optionally with an indexed attribute value
    /// (`field` is "attributes.<name>", `value` lower-cased) and a type, `limit` rows.
    func things(after: String, attribute: (field: String, value: String)?, typeName: String?, limit: Int) throws -> [ThingSummaryRecord] {
        var sql = "SELECT t.name, y.name, t.attributes, t.version FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let attribute {
            sql += " AND t.id IN (SELECT thing FROM thing_text WHERE field = ? AND value = ?)"
            binds += [.text(attribute.field), .text(attribute.value)]
        }
        if let typeName { sql += " AND y.name = ?"; binds.append(.text(typeName)) }
        sql += " ORDER BY t.name LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds, ThingSummaryRecord.init(row:))
    }

    // MARK: thing types

    func typeID(named name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing_type WHERE name = ?", [name])?.int
    }

    /// The id of a type that is not deprecated.
    func activeTypeID(named name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing_type WHERE name = ? AND NOT deprecated", [name])?.int
    }

    /// A type's public id and its properties as stored text (CreateThingType compares them).
    func typeKey(named name: String) throws -> (typeId: String, storedProperties: String?)? {
        try c.query("SELECT type_id, properties FROM thing_type WHERE name = ?", [name], { ($0.text(0), $0.optionalText(1)) }).first
    }

    func insertThingType(name: String, typeId: String, properties: String?, at now: Int64) throws {
        try c.execute("INSERT INTO thing_type(name, name_lower, type_id, properties, created_at) VALUES (?, ?, ?, ?, ?)",
                      [name, name.lowercased(), typeId, properties, now])
    }

    private static let typeColumns = "SELECT name, properties, deprecated, deprecated_at, created_at, type_id FROM thing_type"

    func thingType(named name: String) throws -> ThingTypeRecord? {
        try c.query(Self.typeColumns + " WHERE name = ?", [name], ThingTypeRecord.init(row:)).first
    }

    /// Types after `after` in name order (only `name` when given), `limit` rows.
    func thingTypes(after: String, name: String?, limit: Int) throws -> [ThingTypeRecord] {
        var sql = Self.typeColumns + " WHERE name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let name { sql += " AND name = ?"; binds.append(.text(name)) }
        sql += " ORDER BY name LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds, ThingTypeRecord.init(row:))
    }

    func setDeprecated(type name: String, _ deprecated: Bool, at now: Int64?) throws {
        try c.execute("UPDATE thing_type SET deprecated = ?, deprecated_at = ? WHERE name = ?", [deprecated, now, name])
    }

    func thingCount(ofType type: Int64) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM thing WHERE type = ?", [type])?.int ?? 0
    }

    func deleteThingType(_ type: Int64) throws {
        try c.execute("DELETE FROM thing_type WHERE id = ?", [type])
    }

    // MARK: thing groups

    func groupID(named name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing_group WHERE name = ?", [name])?.int
    }

    func groupKey(named name: String) throws -> ThingGroupKey? {
        try c.query("SELECT id, group_id, version, properties, parent, query, created_at FROM thing_group WHERE name = ?",
                    [name], ThingGroupKey.init(row:)).first
    }

    func groupName(of group: Int64) throws -> String? {
        try c.scalar("SELECT name FROM thing_group WHERE id = ?", [group])?.string
    }

    /// The depth of a group below its root (0 for a root).
    func depth(of group: Int64) throws -> Int64 {
        try c.scalar("SELECT max(depth) FROM thing_group_ancestor WHERE group_id = ?", [group])?.int ?? 0
    }

    /// Inserts a static group under `parent` with its ancestor rows; returns its row id.
    func insertStaticGroup(name: String, groupId: String, parent: Int64?, properties: String?, at now: Int64) throws -> Int64 {
        let id = try c.scalar("INSERT INTO thing_group(name, name_lower, group_id, parent, properties, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                              [name, name.lowercased(), groupId, parent, properties, now])?.int ?? 0
        try insertAncestors(of: id, parent: parent)
        return id
    }

    /// The group's own ancestor row, and its parent's ancestors one level further up.
    func insertAncestors(of id: Int64, parent: Int64?) throws {
        try c.execute("INSERT INTO thing_group_ancestor(group_id, ancestor, depth) VALUES (?, ?, 0)", [id, id])
        if let parent {
            try c.execute("INSERT INTO thing_group_ancestor(group_id, ancestor, depth) SELECT ?, ancestor, depth + 1 FROM thing_group_ancestor WHERE group_id = ?", [id, parent])
        }
    }

    func group(named name: String) throws -> ThingGroupRecord? {
        try c.query("""
            SELECT g.id, g.group_id, g.version, g.properties, p.name, g.created_at, g.query, g.query_version, g.index_name, g.status
            FROM thing_group AS g LEFT JOIN thing_group AS p ON p.id = g.parent WHERE g.name = ?
            """, [name], ThingGroupRecord.init(row:)).first
    }

    /// The names of a group's ancestors, root first.
    func ancestorNames(of group: Int64) throws -> [String] {
        try c.query("""
            SELECT t.name FROM thing_group_ancestor AS a JOIN thing_group AS t ON t.id = a.ancestor
            WHERE a.group_id = ? AND a.depth > 0 ORDER BY a.depth DESC
            """, [group]) { $0.text(0) }
    }

    func setProperties(group: Int64, _ properties: String) throws {
        try c.execute("UPDATE thing_group SET properties = ?, version = version + 1 WHERE id = ?", [properties, group])
    }

    /// Group names after `after`: children of a parent (every descendant with `recursive`),
    /// matching a GLOB `pattern`, `limit` rows.
    func groupNames(after: String, parent: Int64?, recursive: Bool, pattern: String?, limit: Int) throws -> [String] {
        var sql = "SELECT g.name FROM thing_group AS g WHERE g.name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let parent {
            sql += recursive ? " AND g.id IN (SELECT group_id FROM thing_group_ancestor WHERE ancestor = ? AND depth > 0)" : " AND g.parent = ?"
            binds.append(.integer(parent))
        }
        if let pattern {
            sql += " AND g.name" + c.dialect.patternMatch
            binds.append(.text(c.dialect.patternParameter(pattern)))
        }
        sql += " ORDER BY g.name LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds) { $0.text(0) }
    }

    func hasChildGroups(_ group: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_group WHERE parent = ?", [group]) != nil
    }

    func deleteGroup(_ group: Int64) throws {
        try c.execute("DELETE FROM thing_group WHERE id = ?", [group])
    }

    // MARK: membership

    func isMember(group: Int64, thing: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_group_member WHERE group_id = ? AND thing = ?", [group, thing]) != nil
    }

    /// How many groups a thing is directly in.
    func membershipCount(of thing: Int64) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM thing_group_member WHERE thing = ?", [thing])?.int ?? 0
    }

    /// The newest dynamic group the thing is in (created after `createdAfter` when given).
    func newestDynamicGroup(of thing: Int64, createdAfter: Int64? = nil) throws -> Int64? {
        if let createdAfter {
            return try c.query("""
                SELECT g.id FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id
                WHERE m.thing = ? AND g.query IS NOT NULL AND g.created_at > ? ORDER BY g.created_at DESC LIMIT 1
                """, [thing, createdAfter]) { $0.int(0) }.first
        }
        return try c.query("""
            SELECT g.id FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id
            WHERE m.thing = ? AND g.query IS NOT NULL ORDER BY g.created_at DESC, g.id DESC LIMIT 1
            """, [thing]) { $0.int(0) }.first
    }

    /// Keeps `thing_group.member_count` (the planner's estimate of a group's size) in step
    /// with thing_group_member: every writer of memberships reports its net change here, once
    /// per group and operation (a trigger per row cost 5 µs a member in bulk refreshes).
    func countMembers(_ delta: Int, group: Int64) throws {
        guard delta != 0 else { return }
        try c.execute("UPDATE thing_group SET member_count = member_count + ? WHERE id = ?", [Int64(delta), group])
    }

    /// Inserts a membership row, not counted (the caller counts once per group).
    func insertMember(group: Int64, thing: Int64, at now: Int64) throws {
        try c.execute("INSERT INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?)", [group, thing, now])
    }

    /// Deletes a membership row, not counted; false when there was none.
    func deleteMember(group: Int64, thing: Int64) throws -> Bool {
        try c.execute("DELETE FROM thing_group_member WHERE group_id = ? AND thing = ?", [group, thing])
        return c.changes > 0
    }

    /// Puts a thing in a group, counted.
    func addMember(group: Int64, thing: Int64, at now: Int64) throws {
        try insertMember(group: group, thing: thing, at: now)
        try countMembers(1, group: group)
    }

    /// Takes a thing out of a group, counted; false when it was not in it.
    @discardableResult
    func removeMember(group: Int64, thing: Int64) throws -> Bool {
        let removed = try deleteMember(group: group, thing: thing)
        if removed { try countMembers(-1, group: group) }
        return removed
    }

    /// Uncounts the memberships of a thing about to be deleted (its rows go by cascade).
    func uncountMemberships(of thing: Int64) throws {
        try c.execute("UPDATE thing_group SET member_count = member_count - 1 WHERE id IN (SELECT group_id FROM thing_group_member WHERE thing = ?)", [thing])
    }

    func disconnectedCount() throws -> Int64 {
        try c.scalar("SELECT count(*) FROM thing WHERE " + c.dialect.flag("connected", false))?.int ?? 0
    }

    func memberIDs(ofGroupNamed name: String) throws -> [Int64] {
        try c.query("SELECT m.thing FROM thing_group_member m JOIN thing_group g ON g.id = m.group_id WHERE g.name = ?", [name]) { $0.int(0) }
    }

    /// The things in a group or below it.
    func members(ofSubtree group: Int64) throws -> [Int64] {
        try c.query("SELECT m.thing FROM thing_group_ancestor AS a JOIN thing_group_member AS m ON m.group_id = a.group_id WHERE a.ancestor = ?", [group]) { $0.int(0) }
    }

    /// Whether a thing is in a group or below it (one probe).
    func isMember(thing: Int64, ofSubtree group: Int64) throws -> Bool {
        try c.scalar("""
            SELECT 1 FROM thing_group_member AS m JOIN thing_group_ancestor AS a ON a.group_id = m.group_id
            WHERE m.thing = ? AND a.ancestor = ? LIMIT 1
            """, [thing, group]) != nil
    }

    /// The member ids of one group.
    func members(of group: Int64) throws -> [Int64] {
        try c.query("SELECT thing FROM thing_group_member WHERE group_id = ?", [group]) { $0.int(0) }
    }

    func memberCount(of group: Int64) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM thing_group_member WHERE group_id = ?", [group])?.int ?? 0
    }

    /// Member names after `after` in name order (members of subgroups too with `recursive`).
    func memberNames(of group: Int64, recursive: Bool, after: String, limit: Int) throws -> [String] {
        let sql = recursive
            ? "SELECT DISTINCT t.name FROM thing_group_ancestor AS a JOIN thing_group_member AS m ON m.group_id = a.group_id JOIN thing AS t ON t.id = m.thing WHERE a.ancestor = ? AND t.name > ? ORDER BY t.name LIMIT ?"
            : "SELECT t.name FROM thing_group_member AS m JOIN thing AS t ON t.id = m.thing WHERE m.group_id = ? AND t.name > ? ORDER BY t.name LIMIT ?"
        return try c.query(sql, [group, after, limit]) { $0.text(0) }
    }

    /// The names of the groups a thing is directly in, after `after`.
    func groupNames(ofThing thing: Int64, after: String, limit: Int) throws -> [String] {
        try c.query("SELECT g.name FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id WHERE m.thing = ? AND g.name > ? ORDER BY g.name LIMIT ?",
                    [thing, after, limit]) { $0.text(0) }
    }
}
