// FleetIndex: runs fleet index queries: compiles them with FleetQuery, lowers them to SQL,
// pages through the results in thingName order and builds AWS's ThingDocument.
import FleetQuery
import FleetStorage
import FleetSQLite

/// `search-index` and everything else that runs a query.
public struct Search {
    public let db: FleetDatabase
    var store: SearchStore { db.search }
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
            return Compiled(source: query, tokens: tokens, syntax: syntax, bound: bound, condition: SQLLowering(dialect: db.connection.queryDialect, estimate: plan ? estimator(log: log) : nil, ordered: ordered).lower(bound))
        } catch {
            throw FleetError(.invalidQuery, error.message, detail: error.rendered(in: query))
        }
    }

    /// Counts, up to the planner's limit, of the things a probeable predicate selects, from
    /// the indexes; a group's from its members' counts (subgroups included).
    func estimator(log: EstimateLog? = nil) -> SQLLowering.Estimator {
        let count = store.estimator()
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

    static func values(_ f: SQLFragment) -> [SQLiteValue] { SearchStore.values(f) }

    /// The SQL of one page: matching things after `after`, in name order.
    public func pageSQL(_ q: Compiled, after: String, limit: Int) -> (String, [SQLiteValue]) {
        SearchStore.pageSQL(q.condition, after: after, limit: limit, on: db.connection)
    }

    /// Names and ids of matching things, one page.
    public func page(_ q: Compiled, after: String, limit: Int) throws -> [(Int64, String)] {
        try store.page(q.condition, after: after, limit: limit)
    }

    /// Every matching thing id (dynamic groups, aggregations).
    public func allIDs(_ q: Compiled) throws -> [Int64] {
        try store.allIDs(q.condition)
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
        let namedFilter = FleetDatabase.indexedShadowNames(in: config)
        // Statements for the whole page, not one per thing, each reading the page's ids from
        // one bound list written once: one per table, or the rows, groups and shadows as one
        // where the dialect reads pages in one statement.
        let page = SearchStore.Things.ids(ids)
        let targeted = defender ? try targetedThings(ids, page: page) : []
        let parts = try store.documentParts(page, groups: registry, shadows: shadows)
        let (rows, groups, shadowRows) = (parts.rows, parts.groups, parts.shadows)
        // Only targeted things show their violations.
        let violations = targeted.isEmpty ? [:] : try store.activeViolations(page)
        var docs: [JSONValue] = []
        docs.reserveCapacity(ids.count)
        for id in ids {
            guard let r = rows[id] else { continue }
            var members: [(String, JSONValue?)] = [("thingName", .string(r.name)), ("thingId", .string(r.thingId))]
            if registry {
                let gs = groups[id] ?? []
                members.append(("thingTypeName", r.type.map(JSONValue.string)))
                members.append(("thingGroupNames", gs.isEmpty ? nil : .array(gs.map(JSONValue.string))))
                members.append(("attributes", Registry.attributesJSON(r.attributes)))
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

    typealias ShadowRow = DocumentShadowRecord

    /// The shadow member of a ThingDocument: the classic shadow's sections plus named ones under `name`.
    func shadowText(_ rows: [ShadowRow], named: Bool, filter: Set<String>?) -> String? {
        guard !rows.isEmpty else { return nil }
        func section(_ d: JSONValue?, _ version: Int64, _ hasDelta: Bool) -> [(String, JSONValue?)] {
            [("desired", d?["state"]?["desired"]), ("reported", d?["state"]?["reported"]), ("delta", d?["state"]?["delta"]),
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

    /// Which of `ids` an attached profile targets (they carry deviceDefender fields); `page`:
    /// the same ids already written as a bound list.
    func targetedThings(_ ids: [Int64], page: SearchStore.Things? = nil) throws -> Set<Int64> {
        switch try store.profileTargeting() {
        case .everyThing: return Set(ids)
        case .groups: return try store.targetedByGroup(page ?? .ids(ids))
        case .none: return []
        }
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
        out += "plan:\n" + (try store.queryPlan(sql, binds)).map { "  " + $0 }.joined(separator: "\n") + "\n"
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
        let things: SearchStore.Things = table.map { .table($0) } ?? .ids(ids)
        let loaded = try store.states(things)
        var states = loaded.states
        let attributes = loaded.attributes
        for (id, attrs) in attributes { states[id]?.fields = FieldIndexer.attributes(attrs) }
        let registry = Registry(db)
        let allowed = try db.indexedShadowNames()
        for shadow in try store.shadows(things) {
            states[shadow.thing]?.fields += registry.shadowFields(name: shadow.name, document: shadow.document, allowed: allowed)
        }
        for (thing, group) in try store.groupNamesWithAncestors(things) { states[thing]?.groupNames.append(group) }
        for (id, vs) in try store.activeViolations(things) { states[id]?.violations = vs }
        let targeted = try targetedThings(Array(states.keys))
        for id in targeted { if let n = states[id]?.violations.count { states[id]?.violationCount = n } }
        return states
    }
}
