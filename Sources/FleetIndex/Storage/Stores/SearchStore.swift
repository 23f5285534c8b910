// FleetIndex storage: the executor of compiled queries: a lowered condition run for a page or
// for every match, the planner's index counts (the estimator), ThingDocuments' rows for a page
// of things, and the in-memory states the Evaluator checks. Thing ids travel as one bound
// list (the dialect's `boundIntegerList`), never as SQL text.
import FleetQuery
import FleetSQLite
import FleetStorage

/// Lets the query compiler's estimator (a Sendable closure) ask the connection for counts; the
/// closure only runs during `compile`, on the connection's own thread.
final class ConnectionBox: @unchecked Sendable {
    let c: StoreConnection
    init(_ c: StoreConnection) { self.c = c }
    /// A count, or the same count kept from an earlier compile while the database is unchanged
    /// (a server plans the same queries again for every request and every page).
    func count(_ sql: String, _ binds: [SQLiteValue]) -> Int? {
        // A count that failed (a request's search interrupted mid-count) is not kept.
        guard let value = try? c.kept(CountKey(sql: sql, binds: binds), { try c.scalar(sql, binds) }), let n = value.int else { return nil }
        return Int(n)
    }

    struct CountKey: Hashable {
        var sql: String
        var binds: [SQLiteValue]
    }
}

/// The row of a thing a ThingDocument is built from (attributes decoded once).
struct ThingDocumentRecord {
    var name: String
    var thingId: String
    var type: String?
    var attributes: [(String, String)]
    var connected: Bool
    var ts: Int64?
    var reason: String?

    /// Columns: `t.id, t.name, t.thing_id, y.name, t.attributes, t.connected, t.conn_ts, t.disconnect_reason` (id skipped).
    init(row s: StoreRow) {
        (name, thingId, type) = (s.text(1), s.text(2), s.optionalText(3))
        attributes = Registry.decodeAttributes(s.text(4))
        (connected, ts, reason) = (s.int(5) != 0, s.optionalInt(6), s.optionalText(7))
    }
}

/// A stored shadow as the ThingDocument shows it (document parsed once).
struct DocumentShadowRecord {
    var name: String
    var document: JSONValue?
    var version: Int64
    var hasDelta: Bool

    /// Columns: `thing, name, document, version, has_delta` (thing skipped).
    init(row s: StoreRow) {
        (name, document, version, hasDelta) = (s.text(1), try? JSONValue.parse(s.text(2)), s.int(3), s.int(4) != 0)
    }

    init(name: String, document: JSONValue?, version: Int64, hasDelta: Bool) {
        (self.name, self.document, self.version, self.hasDelta) = (name, document, version, hasDelta)
    }
}

/// Runs compiled queries and loads what their results show.
struct SearchStore {
    let c: StoreConnection
    private var d: any StoreDialect { c.dialect }

    static func values(_ f: SQLFragment) -> [SQLiteValue] {
        f.binds.map { p in
            switch p {
            case .integer(let v): .integer(v)
            case .real(let v): .real(v)
            case .text(let v): .text(v)
            }
        }
    }

    /// Thing ids as the one bound parameter `boundIntegerList` reads (a JSON array).
    static func idList(_ ids: [Int64]) -> String {
        var text = "["
        text.reserveCapacity(2 + ids.count * 8)
        for (i, id) in ids.enumerated() {
            if i > 0 { text += "," }
            text += String(id)
        }
        return text + "]"
    }

    // MARK: running a condition

    /// A lowered condition's SQL text, with `?` placeholders, for this engine's statements.
    static func conditionText(_ condition: SQLFragment, _ c: StoreConnection) -> String {
        c.queryDialect.placeholderText(of: condition)
    }

    /// The SQL of one page: matching things after `after`, in name order.
    static func pageSQL(_ condition: SQLFragment, after: String, limit: Int, on c: StoreConnection) -> (String, [SQLiteValue]) {
        ("SELECT t.id, t.name FROM thing AS t WHERE " + conditionText(condition, c) + " AND t.name > ? ORDER BY t.name LIMIT ?",
         values(condition) + [.text(after), .integer(Int64(limit))])
    }

    /// Ids and names of one page of matching things.
    func page(_ condition: SQLFragment, after: String, limit: Int) throws -> [(Int64, String)] {
        let (sql, binds) = Self.pageSQL(condition, after: after, limit: limit, on: c)
        return try c.generatedQuery(sql, binds) { ($0.int(0), $0.text(1)) }
    }

    /// Every matching thing id.
    func allIDs(_ condition: SQLFragment) throws -> [Int64] {
        try c.generatedQuery("SELECT t.id FROM thing AS t WHERE " + Self.conditionText(condition, c), Self.values(condition)) { $0.int(0) }
    }

    /// The engine's plan of generated SQL with its bound values (SQLite's `EXPLAIN QUERY
    /// PLAN`, PostgreSQL's `EXPLAIN`), one line per step.
    func queryPlan(_ sql: String, _ binds: [SQLiteValue]) throws -> [String] {
        if let sqlite = c.sqlite { return try sqlite.queryPlan(sql, binds) }
        return try c.query("EXPLAIN " + sql, binds) { $0.text(0) }
    }

    // MARK: the planner's estimates

    /// Counts, up to the planner's limit, of the things a probeable predicate selects, from
    /// the indexes; a group's from its members' counts (subgroups included).
    func estimator() -> SQLLowering.Estimator {
        let box = ConnectionBox(c)
        let d = self.d
        let glob = d.patternMatch
        let disconnected = "thing" + d.indexedBy("thing_disconnected") + " WHERE " + d.flag("connected", false)
        return { field, test, atMost in
            let limit = SQLiteValue.integer(Int64(atMost))
            /// Rows of `from` (a table and its condition), counted up to the limit.
            func upTo(_ from: String, _ binds: [SQLiteValue]) -> Int? {
                box.count("SELECT count(*) FROM (SELECT 1 FROM " + from + " LIMIT ?) AS q", binds + [limit])
            }
            /// Members of the groups whose lower-cased name passes `test` (subgroups included).
            func groupMembers(_ test: String, _ value: String) -> Int? {
                box.count("""
                    SELECT coalesce(sum(d.member_count), 0) FROM thing_group AS g JOIN thing_group_ancestor AS a ON a.ancestor = g.id
                    JOIN thing_group AS d ON d.id = a.group_id WHERE g.name_lower
                    """ + test, [.text(value)])
            }
            switch (field, test) {
            case (.leaf(let path, false), .textEquals(let v)): return upTo("thing_text WHERE field = ? AND value = ?", [.text(path), .text(v)])
            case (.leaf(let path, false), .numberEquals(let d)): return upTo("thing_number WHERE field = ? AND value = ?", [.text(path), .real(d)])
            case (.leaf(let path, false), .bool(let b)): return upTo("thing_flag WHERE field = ? AND value = ?", [.text(path), .integer(b ? 1 : 0)])
            case (.thingGroupNames, .textEquals(let v)): return groupMembers(" = ?", v)
            case (.thingGroupNames, .textGlob(let p)): return groupMembers(glob, d.patternParameter(p))
            case (.violation, _): return upTo("alarm WHERE " + d.flag("in_alarm", true), [])
            case (.connected, .bool(false)): return upTo(disconnected, [])
            case (.connected, .bool(true)): return upTo("thing WHERE " + d.flag("connected", true), [])
            default: return nil
            }
        }
    }

    // MARK: documents

    /// What a page's ThingDocuments are built from: its things' rows, their direct groups (by
    /// name) and their shadows (by name), by thing id.
    struct DocumentParts {
        var rows: [Int64: ThingDocumentRecord] = [:]
        var groups: [Int64: [String]] = [:]
        var shadows: [Int64: [DocumentShadowRecord]] = [:]
    }

    /// The parts of `page`'s documents, the groups and shadows only where asked: in one
    /// statement where the dialect reads pages so (one round trip on PostgreSQL), else one
    /// statement per table.
    func documentParts(_ page: Things, groups: Bool, shadows: Bool) throws -> DocumentParts {
        if d.readsPagesInOneStatement { return try documentPartsInOneStatement(page, groups: groups, shadows: shadows) }
        var parts = DocumentParts()
        try c.forEach("""
            SELECT t.id, t.name, t.thing_id, y.name, t.attributes, t.connected, t.conn_ts, t.disconnect_reason
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.id IN \(page.source(d))
            """, page.binds) { s in parts.rows[s.int(0)] = ThingDocumentRecord(row: s) }
        if groups {
            try c.forEach("""
                SELECT m.thing, g.name FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id
                WHERE m.thing IN \(page.source(d)) ORDER BY m.thing, g.name
                """, page.binds) { parts.groups[$0.int(0), default: []].append($0.text(1)) }
        }
        if shadows {
            try c.forEach("SELECT thing, name, document, version, has_delta FROM shadow WHERE thing IN \(page.source(d)) ORDER BY thing, name",
                          page.binds) { parts.shadows[$0.int(0), default: []].append(DocumentShadowRecord(row: $0)) }
        }
        return parts
    }

    /// `documentParts` as one statement: the three reads share the row's columns (the last
    /// says which read a row comes from): a thing's as `ThingDocumentRecord` reads them, a
    /// group's thing id and name, a shadow's thing id, name, document (2), has_delta (5) and
    /// version (6).
    private func documentPartsInOneStatement(_ page: Things, groups: Bool, shadows: Bool) throws -> DocumentParts {
        let list = page.source(d)
        var sql = """
            SELECT t.id, t.name, t.thing_id, y.name, t.attributes, t.connected, t.conn_ts, t.disconnect_reason, 0
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.id IN \(list)
            """
        var binds = page.binds
        if groups {
            sql += """

                UNION ALL SELECT m.thing, g.name, NULL, NULL, NULL, NULL, NULL, NULL, 1
                FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id WHERE m.thing IN \(list)
                """
            binds += page.binds
        }
        if shadows {
            sql += """

                UNION ALL SELECT s.thing, s.name, s.document, NULL, NULL, s.has_delta, s.version, NULL, 2
                FROM shadow AS s WHERE s.thing IN \(list)
                """
            binds += page.binds
        }
        var parts = DocumentParts()
        try c.forEach(sql, binds) { s in
            switch s.int(8) {
            case 0: parts.rows[s.int(0)] = ThingDocumentRecord(row: s)
            case 1: parts.groups[s.int(0), default: []].append(s.text(1))
            default:
                parts.shadows[s.int(0), default: []].append(DocumentShadowRecord(
                    name: s.text(1), document: try? JSONValue.parse(s.text(2)), version: s.int(6), hasDelta: s.int(5) != 0))
            }
        }
        // A thing's groups and shadows in name order (the bytes' order, as the tables' indexes
        // keep names), as its document lists them.
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        for (id, names) in parts.groups where names.count > 1 { parts.groups[id] = names.sorted(by: before) }
        for (id, list) in parts.shadows where list.count > 1 { parts.shadows[id] = list.sorted { before($0.name, $1.name) } }
        return parts
    }

    /// Which things a query or a one-column table of thing ids selects.
    enum Things {
        /// Thing ids, written once as the bound list (`idList`) every statement of a page reads.
        case list(String)
        case table(StaticString)

        static func ids(_ ids: [Int64]) -> Things { .list(SearchStore.idList(ids)) }

        func source(_ d: any StoreDialect) -> String {
            switch self {
            case .list: d.boundIntegerList
            case .table(let t): "(SELECT thing FROM " + t.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } + ")"
            }
        }
        var binds: [SQLiteValue] {
            switch self {
            case .list(let text): [.text(text)]
            case .table: []
            }
        }
    }

    /// The active violations of `things`, by profile and behavior.
    func activeViolations(_ things: Things) throws -> [Int64: [ViolationState]] {
        var out: [Int64: [ViolationState]] = [:]
        try c.forEach("""
            SELECT thing, profile, behavior, metric, last_time, last_value FROM alarm
            WHERE \(d.flag("in_alarm", true)) AND thing IN \(things.source(d)) ORDER BY thing, profile, behavior
            """, things.binds) { s in
            out[s.int(0), default: []].append(ViolationState(profile: s.text(1), behavior: s.text(2), metric: s.text(3),
                                                             lastTime: s.optionalInt(4), lastValue: s.optionalDouble(5)))
        }
        return out
    }

    /// Which registered things the attached profiles target, in one read of the small target
    /// table (kept while the database is unchanged): with no group target, a page needs no
    /// membership join, and with no target at all no violations either.
    enum Targeting: Sendable {
        case everyThing, groups, none
    }

    func profileTargeting() throws -> Targeting {
        try c.kept("profileTargeting") {
            // 'unregistered' targets clients without a thing: no registered thing.
            let kind = try c.scalar("""
                SELECT kind FROM profile_target WHERE kind IN ('all', 'registered', 'group')
                ORDER BY CASE WHEN kind = 'group' THEN 1 ELSE 0 END LIMIT 1
                """)?.string
            switch kind {
            case nil: return Targeting.none
            case "group": return .groups
            default: return .everyThing
            }
        }
    }

    /// Which of `ids` are in a group (or a subgroup of one) that a profile targets.
    func targetedByGroup(_ page: Things) throws -> Set<Int64> {
        var out = Set<Int64>()
        try c.forEach("""
            SELECT DISTINCT m.thing FROM profile_target AS pt JOIN thing_group_ancestor AS ga ON ga.ancestor = pt.group_id
            JOIN thing_group_member AS m ON m.group_id = ga.group_id WHERE m.thing IN \(page.source(d))
            """, page.binds) { out.insert($0.int(0)) }
        return out
    }

    // MARK: states for the Evaluator

    /// The registry columns of `things` (attributes decoded), as states without fields.
    func states(_ things: Things) throws -> (states: [Int64: ThingState], attributes: [Int64: [(String, String)]]) {
        var states: [Int64: ThingState] = [:]
        var attributes: [Int64: [(String, String)]] = [:]
        try c.forEach("""
            SELECT t.id, t.name, t.thing_id, y.name, t.connected, t.conn_ts, t.disconnect_reason, t.attributes
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.id IN \(things.source(d))
            """, things.binds) { s in
            states[s.int(0)] = ThingState(name: s.text(1), thingId: s.text(2), typeName: s.optionalText(3), connected: s.int(4) != 0,
                                          connectivityTimestamp: s.optionalInt(5), disconnectReason: s.optionalText(6))
            attributes[s.int(0)] = Registry.decodeAttributes(s.text(7))
        }
        return (states, attributes)
    }

    /// Every shadow of `things` (documents parsed once).
    func shadows(_ things: Things) throws -> [ShadowRecord] {
        try c.query("SELECT thing, name, document, 0 FROM shadow WHERE thing IN \(things.source(d))", things.binds, ShadowRecord.init(row:))
    }

    /// The groups of `things` with their ancestors, as (thing, group name) pairs.
    func groupNamesWithAncestors(_ things: Things) throws -> [(Int64, String)] {
        try c.query("""
            SELECT DISTINCT m.thing, g.name FROM thing_group_member AS m JOIN thing_group_ancestor AS a ON a.group_id = m.group_id
            JOIN thing_group AS g ON g.id = a.ancestor WHERE m.thing IN \(things.source(d))
            """, things.binds) { ($0.int(0), $0.text(1)) }
    }
}
