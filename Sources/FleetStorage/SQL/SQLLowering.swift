// FleetStorage: lowering the query language to SQL: a BoundQuery to a parameterized SQL condition over `thing AS t`,
// reaching attributes, shadows, groups, connectivity and violations through their
// indexed tables. Values are always bound; identifiers come only from this file.

#if canImport(FleetQuery)  // the fuzzer compiles these with the language's sources as one module
import FleetQuery
#endif

/// Lowers bound queries to SQL conditions.
///
/// For example, `attributes.site:denver*` lowers to
/// `t.id IN (SELECT x.thing FROM thing_text AS x WHERE x.field = ? AND x.value GLOB ?)`
/// with binds `['attributes.site', 'denver*']`.
public struct SQLLowering: Sendable {
    public var dialect: any SQLDialect

    /// How many things a predicate selects, counting no further than `atMost` (nil: unknown).
    public typealias Estimator = @Sendable (_ field: BoundField, _ test: BoundTest, _ atMost: Int) -> Int?

    /// Estimates how many things a predicate selects (nil: unknown). With it, an AND of
    /// several indexed predicates drives from the most selective one (an IN list over the
    /// index) and checks the others per row with correlated EXISTS probes, instead of
    /// materializing every list.
    public var estimate: Estimator?

    /// Whether the condition serves a first page in name order (`ORDER BY t.name LIMIT n`)
    /// rather than every match. Then an AND whose every indexed predicate selects at least
    /// `estimateCap` things walks the name index and probes each thing: a page needs
    /// page/density probes, instead of reading and sorting every match.
    public var ordered: Bool

    /// Estimates stop counting here; a predicate that reaches it is "large".
    public static let estimateCap = 10_000

    public init(dialect: any SQLDialect = SQLiteDialect(), estimate: Estimator? = nil, ordered: Bool = false) {
        self.dialect = dialect
        self.estimate = estimate
        self.ordered = ordered
    }

    /// The condition for `query`, to follow `WHERE` in a query over `thing AS t`.
    public func lower(_ query: BoundQuery) -> SQLFragment {
        var out = SQLFragment()
        lower(query, into: &out)
        return out
    }

    private func lower(_ q: BoundQuery, into out: inout SQLFragment) {
        switch q {
        case .all:
            out.append(dialect.alwaysTrue)
        case .and(let xs):
            switch plan(xs) {
            case .walk(let probes, let rest)?:
                emitWalk((probes, rest), into: &out)
            case .drive(let driver, let probes, let rest)?:
                emitDrive(driver, probes, rest, into: &out)
            case nil:
                join(xs, " AND ", into: &out)
            }
        case .or(let xs):
            join(xs, " OR ", into: &out)
        case .not(let x):
            out.append("NOT (")
            lower(x, into: &out)
            out.append(")")
        case .predicate(let field, let test):
            if case .walk(let probes, let rest)? = plan([q]) { emitWalk((probes, rest), into: &out) } else { predicate(field, test, into: &out) }
        }
    }

    /// How an AND of indexed predicates runs.
    enum Plan {
        /// Walk the things in name order (an ordered page) and probe each one.
        case walk(probes: [BoundQuery], rest: [BoundQuery])
        /// Drive from the most selective predicate's index, probe the others.
        case drive(driver: BoundQuery, probes: [BoundQuery], rest: [BoundQuery])
    }

    /// Plans an AND (or a lone predicate) from the estimates, each asked once and counted no
    /// further than the decision needs. With no probeable predicate there is nothing to plan.
    /// For an ordered page where every probeable predicate is large (at least `estimateCap`)
    /// they probe things walked in name order (`connectivity.connected` stays a plain
    /// condition: its own index is in name order). Otherwise the smallest drives and the
    /// others become probes; a later predicate takes over as driver only when it is under a
    /// quarter of the driver so far (so it is counted only that far: a driver up to 4x too
    /// large costs less than counting exactly).
    private func plan(_ xs: [BoundQuery]) -> Plan? {
        guard let estimate else { return nil }
        var probeable: [BoundQuery] = [], connectivity: [BoundQuery] = [], rest: [BoundQuery] = []
        for x in xs {
            if case .predicate(let f, let t) = x, Self.probes(f, t) { probeable.append(x) }
            else if case .predicate(.connected, .bool) = x { connectivity.append(x) }
            else { rest.append(x) }
        }
        guard !probeable.isEmpty, ordered || probeable.count + connectivity.count >= 2 else { return nil }
        var counted: [(query: BoundQuery, count: Int)] = []
        var walkable = ordered
        var best: (query: BoundQuery, count: Int)? = nil
        func take(_ x: BoundQuery, _ f: BoundField, _ t: BoundTest) {
            let limit = best.map { walkable ? Self.estimateCap : $0.count / 4 + 1 } ?? Self.estimateCap
            guard let n = estimate(f, t, limit) else { rest.append(x); return }
            counted.append((x, n))
            if n < Self.estimateCap { walkable = false }
            if best == nil || n < best!.count && (walkable || n < limit) { best = (x, n) }
        }
        for x in probeable { if case .predicate(let f, let t) = x { take(x, f, t) } }
        let probes = counted.map(\.query)
        if walkable, !probes.isEmpty {
            return .walk(probes: probes, rest: connectivity + rest)
        }
        walkable = false
        for x in connectivity { if case .predicate(let f, let t) = x { take(x, f, t) } }
        guard let driver = best, counted.count >= 2 else {
            return nil
        }
        return .drive(driver: driver.query, probes: counted.map(\.query).filter { $0 != driver.query }, rest: rest)
    }

    private func emitDrive(_ driver: BoundQuery, _ probes: [BoundQuery], _ rest: [BoundQuery], into out: inout SQLFragment) {
        out.append("(")
        // Probes that can test the driver's thing column go inside the driver's subquery:
        // thing rows are then read only for the things that pass them all.
        let inside = probes.filter { if case .predicate(let f, _) = $0 { Self.probesInside(f) } else { false } }
        let outside = probes.filter { if case .predicate(let f, _) = $0 { !Self.probesInside(f) } else { true } }
        if !inside.isEmpty, case .predicate(let df, let dt) = driver, let subject = driverSubject(df, dt) {
            driverWithProbes(df, dt, subject: subject, inside, into: &out)
        } else {
            lower(driver, into: &out)
            for p in inside {
                out.append(" AND ")
                if case .predicate(let f, let t) = p { probe(f, t, subject: .row, into: &out) }
            }
        }
        for p in outside {
            out.append(" AND ")
            if case .predicate(let f, let t) = p { probe(f, t, subject: .row, into: &out) }
        }
        for r in rest {
            out.append(" AND ")
            lower(r, into: &out)
        }
        out.append(")")
    }

    private func emitWalk(_ walk: (probes: [BoundQuery], rest: [BoundQuery]), into out: inout SQLFragment) {
        out.append("(")
        for (i, p) in walk.probes.enumerated() {
            if i > 0 { out.append(" AND ") }
            if case .predicate(let f, let t) = p { probe(f, t, subject: .row, into: &out) }
        }
        for r in walk.rest {
            out.append(" AND ")
            lower(r, into: &out)
        }
        out.append(")")
    }

    /// Whether a predicate has a per-row probe form (an index seek keyed by the thing).
    static func probes(_ field: BoundField, _ test: BoundTest) -> Bool {
        switch (field, test) {
        case (.leaf(_, false), .textEquals), (.leaf(_, false), .numberEquals), (.leaf(_, false), .bool): return true
        case (.thingGroupNames, .textEquals), (.thingGroupNames, .textGlob): return true
        case (.violation, _): return true
        default: return false
        }
    }

    /// The thing a probe tests: the row of `thing AS t`, or a thing-id column of a driver's subquery.
    enum ProbeSubject {
        case row
        case column(StaticString)
        func append(to out: inout SQLFragment) {
            switch self {
            case .row: out.append("t.id")
            case .column(let c): out.append(c)
            }
        }
    }

    /// Whether a probe can test any thing-id column (not only `t.id`).
    static func probesInside(_ field: BoundField) -> Bool {
        switch field {
        case .leaf, .thingGroupNames, .connected: true
        default: false
        }
    }

    /// The thing-id column of a driver that can take probes inside its subquery (nil: none).
    private func driverSubject(_ field: BoundField, _ test: BoundTest) -> ProbeSubject? {
        switch (field, test) {
        case (.leaf, .textEquals), (.leaf, .numberEquals), (.leaf, .bool): .column("x.thing")
        case (.thingGroupNames, .textEquals), (.thingGroupNames, .textGlob): .column("m.thing")
        default: nil
        }
    }

    /// Aliases of joined probes (a join per probe keeps its cursor open: cheaper per driver
    /// row than a correlated EXISTS); probes beyond these stay EXISTS.
    private static let probeAliases: [StaticString] = ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]

    /// `t.id IN (SELECT <subject> FROM <driver> JOIN <probe> ON ... WHERE <driver condition>
    /// AND <other probes>)`: the driver's index is walked first (the dialect's ordered join
    /// keeps the order the estimates chose) and each probe is a seek keyed by the driver's thing.
    /// Duplicates (a thing in two probed groups) do not matter inside IN.
    private func driverWithProbes(_ field: BoundField, _ test: BoundTest, subject: ProbeSubject, _ probes: [BoundQuery], into out: inout SQLFragment) {
        switch field {
        case .leaf:
            switch test {
            case .textEquals: out.append("t.id IN (SELECT x.thing FROM thing_text AS x")
            case .numberEquals: out.append("t.id IN (SELECT x.thing FROM thing_number AS x")
            default: out.append("t.id IN (SELECT x.thing FROM thing_flag AS x")
            }
        default:
            out.append("t.id IN (SELECT m.thing FROM thing_group AS g")
            out.append(dialect.orderedJoin); out.append("thing_group_ancestor AS a ON a.ancestor = g.id")
            out.append(dialect.orderedJoin); out.append("thing_group_member AS m ON m.group_id = a.group_id")
        }
        var filters: [(BoundField, BoundTest)] = []
        var aliases = Self.probeAliases[...]
        for p in probes {
            guard case .predicate(let f, let t) = p else { continue }
            if let alias = aliases.first, joinProbe(f, t, alias: alias, subject: subject, into: &out) {
                aliases = aliases.dropFirst()
            } else {
                filters.append((f, t))
            }
        }
        out.append(" WHERE ")
        switch field {
        case .leaf(let path, let isPattern):
            fieldMatch(path, isPattern, exists: false, into: &out)
            out.append(" AND ")
            leafValue(test, into: &out)
        default:
            text("g.name_lower", test, into: &out)
        }
        for (f, t) in filters {
            out.append(" AND ")
            probe(f, t, subject: subject, into: &out)
        }
        out.append(")")
    }

    /// `<ordered join> <table> AS alias ON <probe keyed by subject>`; false (nothing written) for
    /// a probe with no join form (`connectivity.connected:true` is a NOT EXISTS).
    private func joinProbe(_ field: BoundField, _ test: BoundTest, alias: StaticString, subject: ProbeSubject, into out: inout SQLFragment) -> Bool {
        func column(_ name: StaticString) { out.append(alias); out.append(name) }
        switch (field, test) {
        case (.leaf(let path, _), .textEquals(let v)):
            out.append(dialect.orderedJoin); out.append("thing_text AS "); out.append(alias); out.append(" ON ")
            column(".field = "); out.append(bind: .text(path)); out.append(" AND ")
            column(".value = "); out.append(bind: .text(v))
        case (.leaf(let path, _), .numberEquals(let d)):
            out.append(dialect.orderedJoin); out.append("thing_number AS "); out.append(alias); out.append(" ON ")
            column(".field = "); out.append(bind: .text(path)); out.append(" AND ")
            column(".value = "); out.append(bind: .real(d))
        case (.leaf(let path, _), .bool(let b)):
            out.append(dialect.orderedJoin); out.append("thing_flag AS "); out.append(alias); out.append(" ON ")
            column(".field = "); out.append(bind: .text(path)); out.append(" AND ")
            column(".value = "); out.append(bind: .integer(b ? 1 : 0))
        case (.connected, .bool(false)):
            out.append(dialect.orderedJoin); out.append("thing AS "); out.append(alias)
            dialect.appendIndexHint("thing_disconnected", to: &out)
            out.append(" ON "); column(".connected = "); out.append(dialect.flag(false)); out.append(" AND "); column(".id = "); subject.append(to: &out)
            return true
        case (.thingGroupNames, .textEquals), (.thingGroupNames, .textGlob):
            out.append(dialect.orderedJoin); out.append("thing_group_member AS "); out.append(alias); out.append(" ON ")
            column(".thing = "); subject.append(to: &out); out.append(" AND ")
            column(".group_id IN (SELECT pa.group_id FROM thing_group AS pg JOIN thing_group_ancestor AS pa ON pa.ancestor = pg.id WHERE ")
            text("pg.name_lower", test, into: &out)
            out.append(")")
            return true
        default:
            return false
        }
        out.append(" AND "); column(".thing = "); subject.append(to: &out)
        return true
    }

    /// The per-row form of a probeable predicate on the thing `subject`: an index seek keyed
    /// by the thing (`EXISTS (... WHERE ... = subject)`).
    private func probe(_ field: BoundField, _ test: BoundTest, subject: ProbeSubject, into out: inout SQLFragment) {
        switch field {
        case .leaf(let path, _):
            switch test {
            case .textEquals(let v):
                out.append("EXISTS (SELECT 1 FROM thing_text AS p WHERE p.field = "); out.append(bind: .text(path))
                out.append(" AND p.value = "); out.append(bind: .text(v))
            case .numberEquals(let d):
                out.append("EXISTS (SELECT 1 FROM thing_number AS p WHERE p.field = "); out.append(bind: .text(path))
                out.append(" AND p.value = "); out.append(bind: .real(d))
            default:
                out.append("EXISTS (SELECT 1 FROM thing_flag AS p WHERE p.field = "); out.append(bind: .text(path))
                out.append(" AND p.value = "); out.append(bind: .integer(test == .bool(true) ? 1 : 0))
            }
            out.append(" AND p.thing = "); subject.append(to: &out); out.append(")")
        case .connected:
            guard case .bool(let b) = test else { predicate(field, test, into: &out); return }
            if case .row = subject {
                // The row is read anyway: test its column, not an index of it.
                dialect.appendUnindexed("t.connected", to: &out); out.append(" = "); out.append(bind: .integer(b ? 1 : 0))
            } else {
                // The disconnected things' index is small and keyed by id: a seek, not a row read.
                out.append(b ? "NOT EXISTS (SELECT 1 FROM thing AS pc" : "EXISTS (SELECT 1 FROM thing AS pc")
                dialect.appendIndexHint("thing_disconnected", to: &out)
                out.append(" WHERE pc.connected = "); out.append(dialect.flag(false))
                out.append(" AND pc.id = "); subject.append(to: &out); out.append(")")
            }
        case .thingGroupNames:
            // The named groups and their subgroups are found once; per thing, one seek each.
            out.append("EXISTS (SELECT 1 FROM thing_group_member AS pm WHERE pm.thing = "); subject.append(to: &out)
            out.append(" AND pm.group_id IN (SELECT pa.group_id FROM thing_group AS pg JOIN thing_group_ancestor AS pa ON pa.ancestor = pg.id WHERE ")
            text("pg.name_lower", test, into: &out)
            out.append("))")
        default:
            predicate(field, test, into: &out)
        }
    }

    private func join(_ xs: [BoundQuery], _ op: StaticString, into out: inout SQLFragment) {
        out.append("(")
        for (i, x) in xs.enumerated() {
            if i > 0 { out.append(op) }
            lower(x, into: &out)
        }
        out.append(")")
    }

    /// `column` between optional bounds, as `(column IS NOT NULL AND column >= ? AND ...)`.
    private func range<T>(_ column: SQLFragment, _ lo: Bound<T>?, _ hi: Bound<T>?, _ bind: (T) -> SQLParameter,
                          into out: inout SQLFragment) {
        out.append("(")
        out.append(column)
        out.append(" IS NOT NULL")
        if let lo {
            out.append(" AND "); out.append(column)
            out.append(lo.inclusive ? " >= " : " > "); out.append(bind: bind(lo.value))
        }
        if let hi {
            out.append(" AND "); out.append(column)
            out.append(hi.inclusive ? " <= " : " < "); out.append(bind: bind(hi.value))
        }
        out.append(")")
    }

    private func range<T>(_ column: StaticString, _ lo: Bound<T>?, _ hi: Bound<T>?, _ bind: (T) -> SQLParameter,
                          into out: inout SQLFragment) {
        range(SQLFragment(column), lo, hi, bind, into: &out)
    }

    /// A text test on a lower-cased column.
    private func text(_ column: StaticString, _ test: BoundTest, into out: inout SQLFragment) {
        switch test {
        case .textEquals(let s):
            out.append(column); out.append(" = "); out.append(bind: .text(s))
        case .textGlob(let p):
            dialect.appendPatternMatch(column, pattern: p, to: &out)
        case .textRange(let lo, let hi):
            range(column, lo, hi, { .text($0) }, into: &out)
        case .exists:
            out.append(column); out.append(" IS NOT NULL")
        default:
            out.append(dialect.alwaysFalse)
        }
    }

    /// A numeric test on a column (or a scalar subquery) that may be NULL.
    private func number(_ column: SQLFragment, _ test: BoundTest, into out: inout SQLFragment) {
        switch test {
        case .numberEquals(let d):
            out.append("("); out.append(column); out.append(" IS NOT NULL AND ")
            out.append(column); out.append(" = "); out.append(bind: .real(d)); out.append(")")
        case .numberRange(let lo, let hi):
            range(column, lo, hi, { .real($0) }, into: &out)
        case .exists:
            out.append(column); out.append(" IS NOT NULL")
        default:
            out.append(dialect.alwaysFalse)
        }
    }

    private func number(_ column: StaticString, _ test: BoundTest, into out: inout SQLFragment) {
        number(SQLFragment(column), test, into: &out)
    }

    private func predicate(_ field: BoundField, _ test: BoundTest, into out: inout SQLFragment) {
        switch field {
        case .thingName:
            if test == .exists { out.append(dialect.alwaysTrue); return }
            text("t.name_lower", test, into: &out)
        case .thingId:
            if test == .exists { out.append(dialect.alwaysTrue); return }
            text("t.thing_id", test, into: &out)
        case .thingTypeName:
            if test == .exists { out.append("t.type IS NOT NULL"); return }
            out.append("(t.type IS NOT NULL AND t.type IN (SELECT y.id FROM thing_type AS y WHERE ")
            text("y.name_lower", test, into: &out)
            out.append("))")
        case .thingGroupNames:
            if test == .exists { out.append("t.id IN (SELECT m.thing FROM thing_group_member AS m)"); return }
            groups(test, into: &out)
        case .leaf(let path, let isPattern):
            if test == .exists {
                // Any value under the path, in any of the three value tables.
                out.append("(")
                for (i, table) in ["thing_text", "thing_number", "thing_flag"].enumerated() {
                    if i > 0 { out.append(" OR ") }
                    switch table {
                    case "thing_text": out.append("t.id IN (SELECT x.thing FROM thing_text AS x WHERE ")
                    case "thing_number": out.append("t.id IN (SELECT x.thing FROM thing_number AS x WHERE ")
                    default: out.append("t.id IN (SELECT x.thing FROM thing_flag AS x WHERE ")
                    }
                    fieldMatch(path, isPattern, exists: true, into: &out)
                    out.append(")")
                }
                out.append(")")
                return
            }
            leafList(path, isPattern, test, into: &out)
            out.append(")")
        case .connected:
            switch test {
            case .bool(let b): out.append("t.connected = "); out.append(bind: .integer(b ? 1 : 0))
            case .exists: out.append(dialect.alwaysTrue)
            default: out.append(dialect.alwaysFalse)
            }
        case .connectivityTimestamp:
            number("t.conn_ts", test, into: &out)
        case .disconnectReason:
            out.append("(t.connected = "); out.append(dialect.flag(false))
            if test == .exists { out.append(" AND t.disconnect_reason IS NOT NULL)"); return }
            out.append(" AND ")
            text("coalesce(lower(t.disconnect_reason), '')", test, into: &out)
            out.append(")")
        case .violationCount:
            // Indexed (0 included) for every thing an attached profile targets: all things,
            // registered things, or a group with its subgroups.
            out.append("((EXISTS (SELECT 1 FROM profile_target AS pt WHERE pt.kind IN ('all', 'registered')) OR t.id IN (SELECT m.thing FROM profile_target AS pt JOIN thing_group_ancestor AS ga ON ga.ancestor = pt.group_id JOIN thing_group_member AS m ON m.group_id = ga.group_id))")
            if test != .exists {
                out.append(" AND ")
                var count = SQLFragment()
                count.append("(SELECT count(*) FROM alarm AS a WHERE a.thing = t.id AND a.in_alarm = "); count.append(dialect.flag(true))
                count.append(")")
                number(count, test, into: &out)
            }
            out.append(")")
        case .violation(let profile, let behavior, let attribute):
            out.append("t.id IN (SELECT a.thing FROM alarm AS a WHERE a.in_alarm = "); out.append(dialect.flag(true))
            out.append(" AND a.thing IS NOT NULL")
            if let profile { out.append(" AND a.profile = "); out.append(bind: .text(profile)) }
            if let behavior { out.append(" AND a.behavior = "); out.append(bind: .text(behavior)) }
            switch attribute {
            case .inViolation:
                break
            case .metricName:
                out.append(" AND ")
                text("lower(a.metric)", test, into: &out)
            case .lastViolationTime:
                out.append(" AND ")
                number("a.last_time", test, into: &out)
            case .lastViolationCount:
                out.append(" AND ")
                number("a.last_value", test, into: &out)
            case .lastViolationNumber:
                // Every metric fleetdex computes is a count: no `number` values exist.
                out.append(" AND "); out.append(dialect.alwaysFalse)
            }
            out.append(")")
        case .anyText:
            out.append("(")
            text("t.name_lower", test, into: &out)
            out.append(" OR (t.type IS NOT NULL AND t.type IN (SELECT y.id FROM thing_type AS y WHERE ")
            text("y.name_lower", test, into: &out)
            out.append(")) OR ")
            groups(test, into: &out)
            out.append(" OR t.id IN (SELECT x.thing FROM thing_text AS x WHERE ")
            text("x.value", test, into: &out)
            out.append("))")
        }
    }

    private func groups(_ test: BoundTest, into out: inout SQLFragment) {
        groupList(test, into: &out)
        out.append(")")
    }

    /// `t.id IN (SELECT m.thing FROM ... WHERE <group name test>`, left open.
    private func groupList(_ test: BoundTest, into out: inout SQLFragment) {
        out.append("t.id IN (SELECT m.thing FROM thing_group AS g JOIN thing_group_ancestor AS a ON a.ancestor = g.id JOIN thing_group_member AS m ON m.group_id = a.group_id WHERE ")
        text("g.name_lower", test, into: &out)
    }

    /// `t.id IN (SELECT x.thing FROM <value table> AS x WHERE <path> AND <value test>`, left open.
    private func leafList(_ path: String, _ isPattern: Bool, _ test: BoundTest, into out: inout SQLFragment) {
        switch test {
        case .textEquals, .textGlob, .textRange: out.append("t.id IN (SELECT x.thing FROM thing_text AS x WHERE ")
        case .numberEquals, .numberRange: out.append("t.id IN (SELECT x.thing FROM thing_number AS x WHERE ")
        default: out.append("t.id IN (SELECT x.thing FROM thing_flag AS x WHERE ")
        }
        fieldMatch(path, isPattern, exists: false, into: &out)
        out.append(" AND ")
        leafValue(test, into: &out)
    }

    /// `x.field` names the path (or, for `*` segments, matches the pattern); with `exists`, a
    /// path that is an object also matches the leaves below it.
    private func fieldMatch(_ path: String, _ isPattern: Bool, exists: Bool, into out: inout SQLFragment) {
        if exists { out.append("(") }
        if isPattern { dialect.appendPatternMatch("x.field", pattern: path, to: &out) } else {
            out.append("x.field = "); out.append(bind: .text(path))
        }
        if exists {
            out.append(" OR ")
            dialect.appendPatternMatch("x.field", pattern: (isPattern ? path : Lexer.literalGlob(path)) + ".*", to: &out)
            out.append(")")
        }
    }

    private func leafValue(_ test: BoundTest, into out: inout SQLFragment) {
        switch test {
        case .textEquals, .textGlob, .textRange:
            text("x.value", test, into: &out)
        case .numberEquals, .numberRange:
            number("x.value", test, into: &out)
        case .bool(let b):
            out.append("x.value = "); out.append(bind: .integer(b ? 1 : 0))
        case .exists:
            out.append(dialect.alwaysTrue)
        }
    }
}
