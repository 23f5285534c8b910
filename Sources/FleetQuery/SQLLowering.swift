// FleetQuery, stage 4: a BoundQuery to a parameterized SQL condition over `thing AS t`,
// reaching attributes, shadows, groups, connectivity and violations through their
// indexed tables. Values are always bound; identifiers come only from this file.

/// Lowers bound queries to SQL conditions.
///
/// For example, `attributes.site:denver*` lowers to
/// `t.id IN (SELECT x.thing FROM thing_text AS x WHERE x.field = ? AND x.value GLOB ?)`
/// with binds `['attributes.site', 'denver*']`.
public struct SQLLowering: Sendable {
    public var dialect: any SQLDialect

    /// Estimates how many things a predicate selects (nil: unknown). With it, an AND of
    /// several indexed predicates drives from the most selective one (an IN list over the
    /// index) and checks the others per row with correlated EXISTS probes, instead of
    /// materializing every list.
    public var estimate: (@Sendable (BoundField, BoundTest) -> Int?)?

    public init(dialect: any SQLDialect = SQLiteDialect(), estimate: (@Sendable (BoundField, BoundTest) -> Int?)? = nil) {
        self.dialect = dialect
        self.estimate = estimate
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
            out.append("1")
        case .and(let xs):
            if let planned = plan(xs) {
                out.append("(")
                lower(planned.driver, into: &out)
                for p in planned.probes {
                    out.append(" AND ")
                    if case .predicate(let f, let t) = p { probe(f, t, into: &out) }
                }
                for r in planned.rest {
                    out.append(" AND ")
                    lower(r, into: &out)
                }
                out.append(")")
            } else {
                join(xs, " AND ", into: &out)
            }
        case .or(let xs):
            join(xs, " OR ", into: &out)
        case .not(let x):
            out.append("NOT (")
            lower(x, into: &out)
            out.append(")")
        case .predicate(let field, let test):
            predicate(field, test, into: &out)
        }
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

    /// For an AND with two or more predicates that can drive (probeable ones, or
    /// `connectivity.connected`) and estimates for them: the most selective drives, the other
    /// probeable ones become per-row probes, the rest stay as they are.
    private func plan(_ xs: [BoundQuery]) -> (driver: BoundQuery, probes: [BoundQuery], rest: [BoundQuery])? {
        guard let estimate else { return nil }
        var candidates: [(BoundQuery, Int)] = []
        var rest: [BoundQuery] = []
        for x in xs {
            if case .predicate(let f, let t) = x, Self.probes(f, t) || f == .connected, let n = estimate(f, t) {
                candidates.append((x, n))
            } else {
                rest.append(x)
            }
        }
        guard candidates.count >= 2 else { return nil }
        let sorted = candidates.sorted { $0.1 < $1.1 }
        return (sorted[0].0, sorted.dropFirst().map(\.0), rest)
    }

    /// The per-row form of a probeable predicate: `EXISTS (... WHERE ... = t.id)`.
    private func probe(_ field: BoundField, _ test: BoundTest, into out: inout SQLFragment) {
        switch field {
        case .leaf(let path, _):
            switch test {
            case .textEquals(let v):
                out.append("EXISTS (SELECT 1 FROM thing_text AS x WHERE x.field = "); out.append(bind: .text(path))
                out.append(" AND x.value = "); out.append(bind: .text(v))
            case .numberEquals(let d):
                out.append("EXISTS (SELECT 1 FROM thing_number AS x WHERE x.field = "); out.append(bind: .text(path))
                out.append(" AND x.value = "); out.append(bind: .real(d))
            default:
                out.append("EXISTS (SELECT 1 FROM thing_flag AS x WHERE x.field = "); out.append(bind: .text(path))
                out.append(" AND x.value = "); out.append(bind: .integer(test == .bool(true) ? 1 : 0))
            }
            out.append(" AND x.thing = t.id)")
        case .connected:
            if case .bool(let b) = test {
                out.append("+t.connected = "); out.append(bind: .integer(b ? 1 : 0))
            } else {
                predicate(field, test, into: &out)
            }
        case .thingGroupNames:
            out.append("EXISTS (SELECT 1 FROM thing_group_member AS m JOIN thing_group_ancestor AS a ON a.group_id = m.group_id JOIN thing_group AS g ON g.id = a.ancestor WHERE m.thing = t.id AND ")
            text("g.name_lower", test, into: &out)
            out.append(")")
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
    private func range<T>(_ column: StaticString, _ lo: Bound<T>?, _ hi: Bound<T>?, _ bind: (T) -> SQLParameter,
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
            out.append("0")
        }
    }

    /// A numeric test on a column that may be NULL.
    private func number(_ column: StaticString, _ test: BoundTest, into out: inout SQLFragment) {
        switch test {
        case .numberEquals(let d):
            out.append("("); out.append(column); out.append(" IS NOT NULL AND ")
            out.append(column); out.append(" = "); out.append(bind: .real(d)); out.append(")")
        case .numberRange(let lo, let hi):
            range(column, lo, hi, { .real($0) }, into: &out)
        case .exists:
            out.append(column); out.append(" IS NOT NULL")
        default:
            out.append("0")
        }
    }

    private func predicate(_ field: BoundField, _ test: BoundTest, into out: inout SQLFragment) {
        switch field {
        case .thingName:
            if test == .exists { out.append("1"); return }
            text("t.name_lower", test, into: &out)
        case .thingId:
            if test == .exists { out.append("1"); return }
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
            switch test {
            case .textEquals, .textGlob, .textRange: out.append("t.id IN (SELECT x.thing FROM thing_text AS x WHERE ")
            case .numberEquals, .numberRange: out.append("t.id IN (SELECT x.thing FROM thing_number AS x WHERE ")
            default: out.append("t.id IN (SELECT x.thing FROM thing_flag AS x WHERE ")
            }
            fieldMatch(path, isPattern, exists: false, into: &out)
            out.append(" AND ")
            leafValue(test, into: &out)
            out.append(")")
        case .connected:
            switch test {
            case .bool(let b): out.append("t.connected = "); out.append(bind: .integer(b ? 1 : 0))
            case .exists: out.append("1")
            default: out.append("0")
            }
        case .connectivityTimestamp:
            number("t.conn_ts", test, into: &out)
        case .disconnectReason:
            if test == .exists { out.append("(t.connected = 0 AND t.disconnect_reason IS NOT NULL)"); return }
            out.append("(t.connected = 0 AND ")
            text("coalesce(lower(t.disconnect_reason), '')", test, into: &out)
            out.append(")")
        case .violationCount:
            // Indexed (0 included) for every thing an attached profile targets: all things,
            // registered things, or a group with its subgroups.
            out.append("((EXISTS (SELECT 1 FROM profile_target AS pt WHERE pt.kind IN ('all', 'registered')) OR t.id IN (SELECT m.thing FROM profile_target AS pt JOIN thing_group_ancestor AS ga ON ga.ancestor = pt.group_id JOIN thing_group_member AS m ON m.group_id = ga.group_id))")
            if test != .exists {
                out.append(" AND ")
                number("(SELECT count(*) FROM alarm AS a WHERE a.thing = t.id AND a.in_alarm = 1)", test, into: &out)
            }
            out.append(")")
        case .violation(let profile, let behavior, let attribute):
            out.append("t.id IN (SELECT a.thing FROM alarm AS a WHERE a.in_alarm = 1 AND a.thing IS NOT NULL")
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
                out.append(" AND 0")
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
        out.append("t.id IN (SELECT m.thing FROM thing_group AS g JOIN thing_group_ancestor AS a ON a.ancestor = g.id JOIN thing_group_member AS m ON m.group_id = a.group_id WHERE ")
        text("g.name_lower", test, into: &out)
        out.append(")")
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
            out.append("1")
        }
    }
}
