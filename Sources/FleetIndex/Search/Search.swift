// FleetIndex: runs fleet index queries: compiles them with FleetQuery, lowers them to SQL,
// pages through the results in thingName order and builds AWS's ThingDocument.
import FleetQuery
import FleetStorage
import FleetSQLite

/// Lets the query compiler's estimator (a Sendable closure) ask the connection for counts; the
/// closure only runs during `compile`, on the connection's own thread.
final class ConnectionBox: @unchecked Sendable {
    let c: Connection
    init(_ c: Connection) { self.c = c }
    func count(_ sql: String, _ binds: [SQLiteValue]) -> Int? {
        (try? c.scalar(sql, binds))??.int.map(Int.init)
    }
}

/// `search-index` and everything else that runs a query.
public struct Search {
    public let db: FleetDatabase
    var c: Connection { db.connection }
    public init(_ db: FleetDatabase) { self.db = db }

    /// A compiled query: its stages, for running and for `--explain`.
    public struct Compiled {
        public var source: String
        public var tokens: [Token]
        public var syntax: Syntax
        public var bound: BoundQuery
        public var condition: SQLFragment
    }

    /// Parses, binds and lowers `query`; errors become InvalidQueryException with a caret.
    /// `plan: false` skips the selectivity estimates (for a query only evaluated in memory);
    /// `ordered: true` plans for a first page in name order rather than every match.
    public func compile(_ query: String, at now: Int64, awsLimits: Bool = false, plan: Bool = true, ordered: Bool = false) throws -> Compiled {
        try compile(query, at: now, awsLimits: awsLimits, plan: plan, ordered: ordered, log: nil)
    }

    func compile(_ query: String, at now: Int64, awsLimits: Bool, plan: Bool, ordered: Bool, log: EstimateLog?) throws -> Compiled {
        do throws(QueryError) {
            let tokens = try Lexer.tokens(in: query)
            let syntax = try Parser.parse(query)
            let bound = try Binder(catalog: try catalog(), now: now, awsLimits: awsLimits).bind(syntax)
            return Compiled(source: query, tokens: tokens, syntax: syntax, bound: bound, condition: SQLLowering(estimate: plan ? estimator(log: log) : nil, ordered: ordered).lower(bound))
        } catch {
            throw FleetError(.invalidQuery, error.message, detail: error.rendered(in: query))
        }
    }

    /// Counts, up to the planner's limit, of the things a probeable predicate selects, from
    /// the indexes; a group's from its members' counts (subgroups included).
    func estimator(log: EstimateLog? = nil) -> SQLLowering.Estimator {
        let box = ConnectionBox(c)
        let count: SQLLowering.Estimator = { field, test, atMost in
            let limit = SQLiteValue.integer(Int64(atMost))
            /// Rows of `from` (a table and its condition), counted up to the limit.
            func upTo(_ from: String, _ binds: [SQLiteValue]) -> Int? {
                box.count("SELECT count(*) FROM (SELECT 1 FROM " + from + " LIMIT ?)", binds + [limit])
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
            case (.thingGroupNames, .textGlob(let p)): return groupMembers(" GLOB ?", p)
            case (.violation, _): return upTo("alarm WHERE in_alarm = 1", [])
            case (.connected, .bool(false)): return upTo("thing INDEXED BY thing_disconnected WHERE connected = 0", [])
            case (.connected, .bool(true)): return upTo("thing WHERE connected = 1", [])
            default: return nil
            }
        }
        guard let log else { return count }
        return { field, test, atMost in
            let n = count(field, test, atMost)
            let shown = n.map { $0 >= atMost ? "at least \($0)" : "\($0)" } ?? "unknown"
            log.lines.append("\(BoundQuery.predicate(field, test).sexpr) \(shown) (asked up to \(atMost))")
            return n
        }
    }

    /// What the planner asked the estimator while compiling, for `--explain`. The estimator
    /// only runs during `compile`, on the connection's thread.
    final class EstimateLog: @unchecked Sendable {
        var lines: [String] = []
    }

    func catalog() throws(QueryError) -> FieldCatalog {
        (try? db.catalog()) ?? FieldCatalog()
    }

    static func values(_ f: SQLFragment) -> [SQLiteValue] {
        f.binds.map { p in
            switch p {
            case .integer(let v): .integer(v)
            case .real(let v): .real(v)
            case .text(let v): .text(v)
            }
        }
    }

    /// The SQL of one page: matching things after `after`, in name order.
    public func pageSQL(_ q: Compiled, after: String, limit: Int) -> (String, [SQLiteValue]) {
        ("SELECT t.id, t.name FROM thing AS t WHERE " + q.condition.sql + " AND t.name > ? ORDER BY t.name LIMIT ?",
         Search.values(q.condition) + [.text(after), .integer(Int64(limit))])
    }

    /// Names and ids of matching things, one page.
    public func page(_ q: Compiled, after: String, limit: Int) throws -> [(Int64, String)] {
        let (sql, binds) = pageSQL(q, after: after, limit: limit)
        let s = try c.prepareUncached(sql)
        try s.bind(binds)
        var out: [(Int64, String)] = []
        while try s.step() { out.append((s.int(0), s.text(1))) }
        return out
    }

    /// Every matching thing id (dynamic groups, aggregations).
    public func allIDs(_ q: Compiled) throws -> [Int64] {
        let s = try c.prepareUncached("SELECT t.id FROM thing AS t WHERE " + q.condition.sql)
        try s.bind(Search.values(q.condition))
        var out: [Int64] = []
        while try s.step() { out.append(s.int(0)) }
        return out
    }

    /// SearchIndex.
    public func searchIndex(indexName: String?, query: String, maxResults: Int?, nextToken: String?,
                            at now: Int64, awsLimits: Bool = false) throws -> JSONValue {
        if let indexName, indexName != "AWS_Things" {
            throw FleetError.notFound("Index \(indexName) does not exist (fleetdex has AWS_Things)")
        }
        let limit = try Validation.maxResults(maxResults, default: 100, max: 500)
        let q = try compile(query, at: now, awsLimits: awsLimits, ordered: true)
        let scope = "search|" + query
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let rows = try page(q, after: after, limit: limit + 1)
        let pageRows = Array(rows.prefix(limit))
        let docs = try documents(pageRows.map(\.0))
        return jsonObject([
            ("things", .array(docs)),
            ("nextToken", rows.count > limit ? .string(PageToken.encode(pageRows.last!.1, scope: scope)) : nil),
        ])
    }

    /// ThingDocuments for `ids`, in the given order.
    public func documents(_ ids: [Int64]) throws -> [JSONValue] {
        guard !ids.isEmpty else { return [] }
        let config = try db.indexingConfiguration()
        let registry = (config["thingIndexingMode"]?.stringValue ?? "REGISTRY_AND_SHADOW") != "OFF"
        let shadows = (config["thingIndexingMode"]?.stringValue ?? "REGISTRY_AND_SHADOW") == "REGISTRY_AND_SHADOW"
        let connectivity = (config["thingConnectivityIndexingMode"]?.stringValue ?? "STATUS") == "STATUS"
        let defender = (config["deviceDefenderIndexingMode"]?.stringValue ?? "VIOLATIONS") == "VIOLATIONS"
        let named = (config["namedShadowIndexingMode"]?.stringValue ?? "ON") == "ON"
        let namedFilter = try db.indexedShadowNames()
        let targeted = try targetedThings(ids)
        // One statement per table for the whole page, not one per thing.
        let list = Self.idList(ids)
        var rows: [Int64: (name: String, thingId: String, type: String?, attributes: String, connected: Bool, ts: Int64?, reason: String?)] = [:]
        try c.forEach("""
            SELECT t.id, t.name, t.thing_id, y.name, t.attributes, t.connected, t.conn_ts, t.disconnect_reason
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.id IN (SELECT value FROM json_each(?))
            """, [list]) { s in
            rows[s.int(0)] = (s.text(1), s.text(2), s.optionalText(3), s.text(4), s.int(5) != 0, s.optionalInt(6), s.optionalText(7))
        }
        var groups: [Int64: [String]] = [:]
        if registry {
            try c.forEach("""
                SELECT m.thing, g.name FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id
                WHERE m.thing IN (SELECT value FROM json_each(?)) ORDER BY m.thing, g.name
                """, [list]) { groups[$0.int(0), default: []].append($0.text(1)) }
        }
        var shadowRows: [Int64: [ShadowRow]] = [:]
        if shadows {
            try c.forEach("SELECT thing, name, document, version, has_delta FROM shadow WHERE thing IN (SELECT value FROM json_each(?)) ORDER BY thing, name", [list]) {
                shadowRows[$0.int(0), default: []].append(ShadowRow(name: $0.text(1), document: $0.text(2), version: $0.int(3), hasDelta: $0.int(4) != 0))
            }
        }
        let violations = defender ? try activeViolations(in: "SELECT value FROM json_each(?)", [.text(list)]) : [:]
        var docs: [JSONValue] = []
        docs.reserveCapacity(ids.count)
        for id in ids {
            guard let r = rows[id] else { continue }
            var members: [(String, JSONValue?)] = [("thingName", .string(r.name)), ("thingId", .string(r.thingId))]
            if registry {
                let gs = groups[id] ?? []
                members.append(("thingTypeName", r.type.map(JSONValue.string)))
                members.append(("thingGroupNames", gs.isEmpty ? nil : .array(gs.map(JSONValue.string))))
                members.append(("attributes", Registry.attributesJSON(Registry.decodeAttributes(r.attributes))))
            }
            if shadows, let s = shadowText(shadowRows[id] ?? [], named: named, filter: namedFilter) { members.append(("shadow", .string(s))) }
            if defender, targeted.contains(id) { members.append(("deviceDefender", .string(defenderText(violations[id] ?? [])))) }
            if connectivity {
                members.append(("connectivity", jsonObject([
                    ("connected", .bool(r.connected)),
                    ("timestamp", r.ts.map { .int($0) }),
                    ("disconnectReason", r.connected ? nil : r.reason.map(JSONValue.string)),
                ])))
            }
            docs.append(jsonObject(members))
        }
        return docs
    }

    /// A stored shadow: classic (name '') or named.
    struct ShadowRow {
        var name: String
        var document: String
        var version: Int64
        var hasDelta: Bool
    }

    /// The shadow member of a ThingDocument: the classic shadow's sections plus named ones under `name`.
    func shadowText(_ rows: [ShadowRow], named: Bool, filter: Set<String>?) -> String? {
        guard !rows.isEmpty else { return nil }
        func section(_ doc: String, _ version: Int64, _ hasDelta: Bool) -> [(String, JSONValue?)] {
            let d = try? JSONValue.parse(doc)
            return [("desired", d?["state"]?["desired"]), ("reported", d?["state"]?["reported"]), ("delta", d?["state"]?["delta"]),
                    ("hasDelta", .bool(hasDelta)), ("version", .int(version))]
        }
        var members: [(String, JSONValue?)] = []
        var namedMembers: [JSONMember] = []
        for r in rows {
            if r.name.isEmpty {
                members += section(r.document, r.version, r.hasDelta)
            } else if named, filter?.contains(r.name) ?? true {
                namedMembers.append(JSONMember(r.name, jsonObject(section(r.document, r.version, r.hasDelta))))
            }
        }
        if !namedMembers.isEmpty { members.append(("name", .object(namedMembers))) }
        if members.isEmpty { return nil }
        return jsonObject(members).compact
    }

    /// The deviceDefender member: violation count and each active violation.
    func defenderText(_ violations: [ViolationState]) -> String {
        var profiles: [JSONMember] = []
        for v in violations {
            let b = JSONMember(v.behavior, jsonObject([("inViolation", .bool(true)), ("metricName", .string(v.metric)),
                                                       ("lastViolationTime", v.lastTime.map { .int($0) }),
                                                       ("lastViolationValue", v.lastValue.map { jsonObject([("count", .double($0))]) })]))
            if let i = profiles.firstIndex(where: { $0.key == v.profile }), case .object(var ms) = profiles[i].value {
                ms.append(b)
                profiles[i].value = .object(ms)
            } else {
                profiles.append(JSONMember(v.profile, .object([b])))
            }
        }
        return jsonObject([("violationCount", .int(violations.count)), ("securityprofiles", .object(profiles))]).compact
    }

    /// The active violations of the things `source` selects (SQL yielding thing ids), by
    /// profile and behavior.
    func activeViolations(in source: String, _ binds: [SQLiteValue]) throws -> [Int64: [ViolationState]] {
        var out: [Int64: [ViolationState]] = [:]
        try c.forEach("""
            SELECT thing, profile, behavior, metric, last_time, last_value FROM alarm
            WHERE in_alarm = 1 AND thing IN (\(source)) ORDER BY thing, profile, behavior
            """, binds) { s in
            out[s.int(0), default: []].append(ViolationState(profile: s.text(1), behavior: s.text(2), metric: s.text(3),
                                                             lastTime: s.optionalInt(4), lastValue: s.optionalDouble(5)))
        }
        return out
    }

    /// Which of `ids` an attached profile targets (they carry deviceDefender fields).
    func targetedThings(_ ids: [Int64]) throws -> Set<Int64> {
        if try c.scalar("SELECT 1 FROM profile_target WHERE kind IN ('all', 'registered') LIMIT 1") != nil { return Set(ids) }
        var out = Set<Int64>()
        try c.forEach("""
            SELECT DISTINCT m.thing FROM profile_target AS pt JOIN thing_group_ancestor AS ga ON ga.ancestor = pt.group_id
            JOIN thing_group_member AS m ON m.group_id = ga.group_id WHERE m.thing IN (SELECT value FROM json_each(?))
            """, [Self.idList(ids)]) { out.insert($0.int(0)) }
        return out
    }

    /// Thing ids as the JSON array `json_each(?)` reads.
    static func idList(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    /// The `--explain` report: tokens, syntax tree, bound query, SQL with parameters, plan.
    public func explain(_ query: String, at now: Int64, awsLimits: Bool = false) throws -> String {
        let log = EstimateLog()
        let q = try compile(query, at: now, awsLimits: awsLimits, plan: true, ordered: true, log: log)
        let (sql, binds) = pageSQL(q, after: "", limit: 100)
        var out = "query:   \(query)\n"
        out += "tokens:  " + q.tokens.dropLast().map { t -> String in
            switch t.kind {
            case .word(let s, let p): return p != nil ? "wild(\(p!))" : "word(\(s))"
            case .phrase(let s): return "phrase(\"\(s)\")"
            default: return t.raw
            }
        }.joined(separator: " ") + "\n"
        out += "syntax:  \(q.syntax.sexpr)\n"
        out += "bound:   \(q.bound.sexpr)\n"
        if !log.lines.isEmpty { out += "estimates:\n" + log.lines.map { "  " + $0 }.joined(separator: "\n") + "\n" }
        out += "sql:     \(sql)\n"
        out += "params:  [" + binds.map(\.description).joined(separator: ", ") + "]\n"
        out += "plan:\n" + (try c.queryPlan(sql, binds)).map { "  " + $0 }.joined(separator: "\n") + "\n"
        return out
    }

    /// The in-memory state of one thing, as the Evaluator sees it (tests and group refresh).
    public func thingState(_ id: Int64) throws -> ThingState? {
        try thingStates(inTable: nil, ids: [id])[id]
    }

    /// The states of many things at once: those listed in `table` (a one-column table of
    /// thing ids, such as thing_touch), or `ids`. A handful of set queries, not one per thing;
    /// leaf values come from the documents, not from the index tables.
    public func thingStates(inTable table: StaticString?, ids: [Int64] = []) throws -> [Int64: ThingState] {
        let source: String
        if let table {
            source = "SELECT thing FROM " + table.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        } else {
            source = "SELECT value FROM json_each(?)"
        }
        let binds: [SQLiteValue] = table == nil ? [.text(Self.idList(ids))] : []
        var states: [Int64: ThingState] = [:]
        var attributes: [Int64: String] = [:]
        try c.forEach("""
            SELECT t.id, t.name, t.thing_id, y.name, t.connected, t.conn_ts, t.disconnect_reason, t.attributes
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.id IN (\(source))
            """, binds) { s in
            states[s.int(0)] = ThingState(name: s.text(1), thingId: s.text(2), typeName: s.optionalText(3), connected: s.int(4) != 0,
                                          connectivityTimestamp: s.optionalInt(5), disconnectReason: s.optionalText(6))
            attributes[s.int(0)] = s.text(7)
        }
        for (id, text) in attributes { states[id]?.fields = FieldIndexer.attributes(Registry.decodeAttributes(text)) }
        let registry = Registry(db)
        let allowed = try db.indexedShadowNames()
        try c.forEach("SELECT thing, name, document FROM shadow WHERE thing IN (\(source))", binds) { s in
            states[s.int(0)]?.fields += registry.shadowFields(name: s.text(1), document: try? JSONValue.parse(s.text(2)), allowed: allowed)
        }
        try c.forEach("""
            SELECT DISTINCT m.thing, g.name FROM thing_group_member AS m JOIN thing_group_ancestor AS a ON a.group_id = m.group_id
            JOIN thing_group AS g ON g.id = a.ancestor WHERE m.thing IN (\(source))
            """, binds) { s in states[s.int(0)]?.groupNames.append(s.text(1)) }
        for (id, vs) in try activeViolations(in: source, binds) { states[id]?.violations = vs }
        let targeted = try targetedThings(Array(states.keys))
        for id in targeted { if let n = states[id]?.violations.count { states[id]?.violationCount = n } }
        return states
    }
}
