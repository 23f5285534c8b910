// FleetIndex: Device Defender Detect operations: security profiles, their targets,
// violations (active and events), verification states and metric values.
import FleetSQLite

/// The Device Defender Detect operations.
public struct Defender {
    public let db: FleetDatabase
    var c: Connection { db.connection }
    public init(_ db: FleetDatabase) { self.db = db }

    /// A profile as the evaluation sees it.
    public struct Profile {
        public var id: Int64
        public var name: String
        public var behaviors: [Behavior]
        public var alertTopic: String?
        public var retained: Set<String>
    }

    func loadProfile(_ s: Statement) -> Profile {
        let behaviors = (try? JSONValue.parse(s.text(2))).map { Behavior.parseList($0).behaviors } ?? []
        let targets = s.optionalText(3).flatMap { try? JSONValue.parse($0) }
        let retained = s.optionalText(4).flatMap { try? JSONValue.parse($0) }?.arrayValue?.compactMap { $0["metric"]?.stringValue } ?? []
        return Profile(id: s.int(0), name: s.text(1), behaviors: behaviors,
                       alertTopic: targets?["SNS"]?["alertTargetArn"]?.stringValue, retained: Set(retained))
    }

    /// Every profile with at least one target.
    public func attachedProfiles() throws -> [Profile] {
        try c.query("""
            SELECT p.id, p.name, p.behaviors, p.alert_targets, p.additional_metrics FROM security_profile AS p
            WHERE EXISTS (SELECT 1 FROM profile_target WHERE profile = p.id) ORDER BY p.name
            """) { loadProfile($0) }
    }

    func profileRow(_ name: String) throws -> Profile? {
        try c.query("SELECT id, name, behaviors, alert_targets, additional_metrics FROM security_profile WHERE name = ?", [name]) { loadProfile($0) }.first
    }

    func requireProfile(_ name: String) throws -> Profile {
        try Validation.name(name, "securityProfileName")
        guard let p = try profileRow(name) else { throw FleetError.notFound("Security profile \(name) cannot be found.") }
        return p
    }

    // MARK: validation

    static func validate(behaviors: JSONValue?, alertTargets: JSONValue?, additionalMetrics: JSONValue?) -> [String] {
        var errors: [String] = []
        if let behaviors { errors += Behavior.parseList(behaviors).errors }
        if let t = alertTargets {
            if case .object(let ms) = t {
                for m in ms {
                    if m.key != "SNS" { errors.append("alertTargets: '\(m.key)' is not an alert target type (SNS)") }
                    if m.value["alertTargetArn"]?.stringValue == nil { errors.append("alertTargets.\(m.key).alertTargetArn is required") }
                    if m.value["roleArn"]?.stringValue == nil { errors.append("alertTargets.\(m.key).roleArn is required") }
                }
            } else { errors.append("alertTargets must be an object like {\"SNS\":{\"alertTargetArn\":...,\"roleArn\":...}}") }
        }
        if let a = additionalMetrics {
            if let items = a.arrayValue {
                for (i, m) in items.enumerated() {
                    guard let metric = m["metric"]?.stringValue else { errors.append("additionalMetricsToRetainV2[\(i)].metric is required"); continue }
                    if !Behavior.metrics.contains(metric) { errors.append("additionalMetricsToRetainV2[\(i)]: metric '\(metric)' is not computed by fleetdex") }
                }
            } else { errors.append("additionalMetricsToRetainV2 must be an array of {\"metric\":...}") }
        }
        return errors
    }

    /// ValidateSecurityProfileBehaviors: every problem at once.
    public func validateBehaviors(_ behaviors: JSONValue) -> JSONValue {
        let errors = Behavior.parseList(behaviors).errors
        return jsonObject([("valid", .bool(errors.isEmpty)),
                           ("validationErrors", .array(errors.map { jsonObject([("errorMessage", .string($0))]) }))])
    }

    func checkTopic(_ alertTargets: JSONValue?) throws {
        guard let arn = alertTargets?["SNS"]?["alertTargetArn"]?.stringValue else { return }
        if try c.scalar("SELECT 1 FROM sns_topic WHERE arn = ?", [arn]) == nil {
            throw FleetError.invalid("alertTargets.SNS.alertTargetArn \(arn) is not a topic of this database (create it with 'fleetdex sns create-topic')")
        }
    }

    // MARK: profiles

    public func createSecurityProfile(name: String, description: String?, behaviors: JSONValue?, alertTargets: JSONValue?,
                                      additionalMetrics: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "securityProfileName")
        if let d = description, d.utf8.count > 1000 { throw FleetError.invalid("securityProfileDescription is longer than 1000 characters") }
        let errors = Defender.validate(behaviors: behaviors, alertTargets: alertTargets, additionalMetrics: additionalMetrics)
        guard errors.isEmpty else { throw FleetError.invalid(errors.joined(separator: "; ")) }
        return try c.transaction {
            if try profileRow(name) != nil { throw FleetError.alreadyExists("Security profile \(name) already exists") }
            try checkTopic(alertTargets)
            try c.execute("INSERT INTO security_profile(name, description, behaviors, alert_targets, additional_metrics, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [name, description, (behaviors ?? .array([])).compact, alertTargets?.compact, additionalMetrics?.compact, now, now])
            return jsonObject([("securityProfileName", .string(name)), ("securityProfileArn", .string(db.profileARN(name)))])
        }
    }

    public func describeSecurityProfile(name: String) throws -> JSONValue {
        try Validation.name(name, "securityProfileName")
        guard let r = try c.query("SELECT name, description, behaviors, alert_targets, additional_metrics, version, created_at, modified_at FROM security_profile WHERE name = ?", [name], { s in
            jsonObject([
                ("securityProfileName", .string(s.text(0))),
                ("securityProfileArn", .string(db.profileARN(s.text(0)))),
                ("securityProfileDescription", s.optionalText(1).map(JSONValue.string)),
                ("behaviors", (try? JSONValue.parse(s.text(2))) ?? .array([])),
                ("alertTargets", s.optionalText(3).flatMap { try? JSONValue.parse($0) }),
                ("additionalMetricsToRetainV2", s.optionalText(4).flatMap { try? JSONValue.parse($0) }),
                ("version", .int(s.int(5))),
                ("creationDate", .string(Timestamp.iso(s.int(6)))),
                ("lastModifiedDate", .string(Timestamp.iso(s.int(7)))),
            ])
        }).first else { throw FleetError.notFound("Security profile \(name) cannot be found.") }
        return r
    }

    /// UpdateSecurityProfile: changed or removed behaviors invalidate their active violations.
    public func updateSecurityProfile(name: String, description: String?, behaviors: JSONValue?, alertTargets: JSONValue?,
                                      additionalMetrics: JSONValue?, deleteBehaviors: Bool, deleteAlertTargets: Bool,
                                      deleteAdditionalMetrics: Bool, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        let errors = Defender.validate(behaviors: behaviors, alertTargets: alertTargets, additionalMetrics: additionalMetrics)
        guard errors.isEmpty else { throw FleetError.invalid(errors.joined(separator: "; ")) }
        return try c.transaction {
            let p = try requireProfile(name)
            let version = try c.scalar("SELECT version FROM security_profile WHERE id = ?", [p.id])?.int ?? 1
            if let expectedVersion, expectedVersion != version { throw FleetError.versionConflict("The version of security profile \(name) is \(version), not \(expectedVersion)") }
            try checkTopic(alertTargets)
            if let d = description { try c.execute("UPDATE security_profile SET description = ? WHERE id = ?", [d, p.id]) }
            if behaviors != nil || deleteBehaviors {
                let newList = deleteBehaviors ? [] : Behavior.parseList(behaviors!).behaviors
                for old in p.behaviors where !newList.contains(where: { $0.name == old.name && $0.json == old.json }) {
                    try invalidate(profile: p.name, behavior: old.name, reason: "the behavior was changed or removed", at: now)
                }
                try c.execute("UPDATE security_profile SET behaviors = ? WHERE id = ?", [(deleteBehaviors ? .array([]) : behaviors!).compact, p.id])
            }
            if alertTargets != nil || deleteAlertTargets { try c.execute("UPDATE security_profile SET alert_targets = ? WHERE id = ?", [deleteAlertTargets ? nil : alertTargets?.compact, p.id]) }
            if additionalMetrics != nil || deleteAdditionalMetrics { try c.execute("UPDATE security_profile SET additional_metrics = ? WHERE id = ?", [deleteAdditionalMetrics ? nil : additionalMetrics?.compact, p.id]) }
            try c.execute("UPDATE security_profile SET version = version + 1, modified_at = ? WHERE id = ?", [now, p.id])
            try EvaluationCycle.monitoringChanged(db)
            return try describeSecurityProfile(name: name)
        }
    }

    public func deleteSecurityProfile(name: String, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        try c.transaction {
            let p = try requireProfile(name)
            if let expectedVersion, let v = try c.scalar("SELECT version FROM security_profile WHERE id = ?", [p.id])?.int, v != expectedVersion {
                throw FleetError.versionConflict("The version of security profile \(name) is \(v), not \(expectedVersion)")
            }
            try invalidate(profile: p.name, behavior: nil, reason: "the security profile was deleted", at: now)
            try c.execute("DELETE FROM security_profile WHERE id = ?", [p.id])
            try db.touchAll()
            try EvaluationCycle.monitoringChanged(db)
            return .object([])
        }
    }

    public func listSecurityProfiles(maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 100, max: 250)
        let after = try PageToken.position(nextToken, scope: "profiles") ?? ""
        let names = try c.query("SELECT name FROM security_profile WHERE name > ? ORDER BY name LIMIT ?", [after, limit + 1]) { $0.text(0) }
        let page = names.prefix(limit)
        return jsonObject([("securityProfileIdentifiers", .array(page.map { jsonObject([("name", .string($0)), ("arn", .string(db.profileARN($0)))]) })),
                           ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: "profiles")) : nil)])
    }

    // MARK: targets

    /// (kind, group id) of a target ARN: all/things, all/registered-things, all/unregistered-things, thinggroup/NAME.
    func target(_ arn: String) throws -> (String, Int64?) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iot" else {
            throw FleetError.invalid("'\(arn)' is not a security profile target ARN (arn:aws:iot:REGION:ACCOUNT:all/things, all/registered-things, all/unregistered-things or thinggroup/NAME)")
        }
        switch parts[5] {
        case "all/things": return ("all", nil)
        case "all/registered-things": return ("registered", nil)
        case "all/unregistered-things": return ("unregistered", nil)
        default:
            guard parts[5].hasPrefix("thinggroup/") else { throw FleetError.invalid("'\(arn)' is not a security profile target ARN") }
            let name = String(parts[5].dropFirst("thinggroup/".count))
            guard let id = try Registry(db).groupID(name) else { throw FleetError.notFound("Thing group \(name) cannot be found.") }
            return ("group", id)
        }
    }

    public func attachSecurityProfile(name: String, targetARN: String) throws -> JSONValue {
        try c.transaction {
            let p = try requireProfile(name)
            let (kind, group) = try target(targetARN)
            let count = try c.scalar("SELECT count(*) FROM profile_target WHERE arn = ?", [targetARN])?.int ?? 0
            if count >= 5 { throw FleetError.limitExceeded("At most 5 security profiles can be attached to one target") }
            try c.execute("INSERT OR IGNORE INTO profile_target(profile, arn, kind, group_id) VALUES (?, ?, ?, ?)", [p.id, targetARN, kind, group])
            try db.touchAll()  // deviceDefender.violationCount now exists for new things
            try EvaluationCycle.monitoringChanged(db)
            return .object([])
        }
    }

    public func detachSecurityProfile(name: String, targetARN: String, at now: Int64) throws -> JSONValue {
        try c.transaction {
            let p = try requireProfile(name)
            guard try c.scalar("SELECT 1 FROM profile_target WHERE profile = ? AND arn = ?", [p.id, targetARN]) != nil else {
                throw FleetError.notFound("Security profile \(name) is not attached to \(targetARN)")
            }
            try c.execute("DELETE FROM profile_target WHERE profile = ? AND arn = ?", [p.id, targetARN])
            try db.touchAll()
            try EvaluationCycle.monitoringChanged(db)
            if try c.scalar("SELECT 1 FROM profile_target WHERE profile = ?", [p.id]) == nil {
                try invalidate(profile: p.name, behavior: nil, reason: "the security profile was detached", at: now)
            }
            // Things that left the remaining targets are invalidated by the next evaluation.
            return .object([])
        }
    }

    public func listTargetsForSecurityProfile(name: String) throws -> JSONValue {
        let p = try requireProfile(name)
        let arns = try c.query("SELECT arn FROM profile_target WHERE profile = ? ORDER BY arn", [p.id]) { $0.text(0) }
        return jsonObject([("securityProfileTargets", .array(arns.map { jsonObject([("arn", .string($0))]) }))])
    }

    public func listSecurityProfilesForTarget(targetARN: String, recursive: Bool) throws -> JSONValue {
        var arns = [targetARN]
        if recursive, let (kind, group) = try? target(targetARN), kind == "group", let group {
            arns = try c.query("SELECT g.name FROM thing_group_ancestor AS a JOIN thing_group AS g ON g.id = a.ancestor WHERE a.group_id = ?", [group]) { db.groupARN($0.text(0)) }
        }
        var out: [JSONValue] = []
        for arn in arns {
            let names = try c.query("SELECT p.name FROM profile_target AS t JOIN security_profile AS p ON p.id = t.profile WHERE t.arn = ? ORDER BY p.name", [arn]) { $0.text(0) }
            out += names.map { jsonObject([("securityProfileIdentifier", jsonObject([("name", .string($0)), ("arn", .string(db.profileARN($0)))])),
                                           ("target", jsonObject([("arn", .string(arn))]))]) }
        }
        return jsonObject([("securityProfileTargetMappings", .array(out))])
    }

    // MARK: violations

    /// Writes an alarm-invalidated event for matching active alarms and removes their slots.
    func invalidate(profile: String?, behavior: String?, thing: Int64? = nil, reason: String, at now: Int64) throws {
        var sql = "SELECT a.client, a.profile, a.behavior, a.violation_id, a.last_value, c.client_id, a.in_alarm FROM alarm AS a JOIN client AS c ON c.id = a.client WHERE 1"
        var binds: [SQLiteValue] = []
        if let profile { sql += " AND a.profile = ?"; binds.append(.text(profile)) }
        if let behavior { sql += " AND a.behavior = ?"; binds.append(.text(behavior)) }
        if let thing { sql += " AND a.thing = ?"; binds.append(.integer(thing)) }
        let rows = try c.query(sql, binds) { s in (s.int(0), s.text(1), s.text(2), s.optionalText(3), s.optionalDouble(4), s.text(5), s.int(6) != 0) }
        let profiles = Dictionary(try c.query("SELECT name, behaviors, alert_targets FROM security_profile") { ($0.text(0), ($0.text(1), $0.optionalText(2))) }, uniquingKeysWith: { a, _ in a })
        let alerts = Alerts(db)
        let store = ViolationStore(db)
        for r in rows {
            try db.touch(alarmOf: r.0, profile: r.1, behavior: r.2)
            try c.execute("DELETE FROM alarm WHERE client = ? AND profile = ? AND behavior = ?", [r.0, r.1, r.2])
            guard r.6, let vid = r.3 else { continue }
            let p = profiles[r.1]
            let behaviorJSON = p.flatMap { try? JSONValue.parse($0.0) }?.arrayValue?.first { $0["name"]?.stringValue == r.2 } ?? jsonObject([("name", .string(r.2))])
            let event = ViolationRecord(violationId: vid, client: r.0, thingName: r.5, profile: r.1, behavior: behaviorJSON, metricValue: r.4,
                                        type: "alarm-invalidated", time: now, verificationState: "UNKNOWN",
                                        verificationDescription: reason)
            try store.insert(event)
            let topic = p?.1.flatMap { try? JSONValue.parse($0) }?["SNS"]?["alertTargetArn"]?.stringValue
            if let topic, behaviorJSON["suppressAlerts"]?.boolValue != true {
                try alerts.publish(event, topicARN: topic, at: now)
            }
        }
    }

    func invalidate(thing: Int64, reason: String, at now: Int64) throws {
        try invalidate(profile: nil, behavior: nil, thing: thing, reason: reason, at: now)
    }

    /// ListActiveViolations.
    public func listActiveViolations(thingName: String?, profile: String?, criteriaType: String?, verificationState: String?,
                                     maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 100, max: 250)
        if let criteriaType, !["STATIC", "STATISTICAL", "MACHINE_LEARNING"].contains(criteriaType) {
            throw FleetError.invalid(member: "behaviorCriteriaType", "must be STATIC, STATISTICAL or MACHINE_LEARNING")
        }
        if let profile { _ = try requireProfile(profile) }
        let scope = "active|\(thingName ?? "")|\(profile ?? "")|\(criteriaType ?? "")|\(verificationState ?? "")"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        var sql = """
            SELECT a.violation_id, c.client_id, a.profile, a.behavior, a.last_value, a.last_time, a.start_time,
                   a.verification_state, a.verification_description, p.behaviors
            FROM alarm AS a JOIN client AS c ON c.id = a.client JOIN security_profile AS p ON p.name = a.profile
            WHERE a.in_alarm = 1 AND a.violation_id > ?
            """
        var binds: [SQLiteValue] = [.text(after)]
        if let thingName { sql += " AND c.client_id = ?"; binds.append(.text(thingName)) }
        if let profile { sql += " AND a.profile = ?"; binds.append(.text(profile)) }
        if let criteriaType, criteriaType != "STATIC" { sql += " AND 0" }
        if let verificationState { sql += " AND coalesce(a.verification_state, 'UNKNOWN') = ?"; binds.append(.text(verificationState)) }
        sql += " ORDER BY a.violation_id LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        let rows = try c.query(sql, binds) { s -> (String, JSONValue) in
            let behaviors = (try? JSONValue.parse(s.text(9)))?.arrayValue ?? []
            let b = behaviors.first { $0["name"]?.stringValue == s.text(3) } ?? jsonObject([("name", .string(s.text(3)))])
            let value: JSONValue? = s.isNull(4) ? nil : jsonObject([("count", .double(s.double(4)))])
            return (s.text(0), jsonObject([
                ("violationId", .string(s.text(0))), ("thingName", .string(s.text(1))), ("securityProfileName", .string(s.text(2))),
                ("behavior", b), ("lastViolationValue", value),
                ("lastViolationTime", s.optionalInt(5).map { .string(Timestamp.iso($0)) }),
                ("violationStartTime", s.optionalInt(6).map { .string(Timestamp.iso($0)) }),
                ("verificationState", s.optionalText(7).map(JSONValue.string)),
                ("verificationStateDescription", s.optionalText(8).map(JSONValue.string)),
            ]))
        }
        let page = rows.prefix(limit)
        return jsonObject([("activeViolations", .array(page.map(\.1))),
                           ("nextToken", rows.count > limit ? .string(PageToken.encode(page.last!.0, scope: scope)) : nil)])
    }

    /// ListViolationEvents between two times (inclusive start, exclusive end), oldest first.
    public func listViolationEvents(start: Int64, end: Int64, thingName: String?, profile: String?, criteriaType: String?,
                                    verificationState: String?, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 100, max: 250)
        guard start <= end else { throw FleetError.invalid(member: "startTime", "must not be after the end time") }
        let scope = "events|\(start)|\(end)|\(thingName ?? "")|\(profile ?? "")|\(verificationState ?? "")"
        let after = try PageToken.position(nextToken, scope: scope).flatMap { Int64($0) } ?? 0
        let store = ViolationStore(db)
        var sql = ViolationStore.eventColumns + " WHERE e.time >= ? AND e.time <= ? AND e.id > ?"
        var binds: [SQLiteValue] = [.integer(start), .integer(end), .integer(after)]
        if let thingName { sql += " AND c.client_id = ?"; binds.append(.text(thingName)) }
        if let profile { sql += " AND b.profile = ?"; binds.append(.text(profile)) }
        if let criteriaType, criteriaType != "STATIC" { sql += " AND 0" }
        if let verificationState { sql += " AND coalesce(v.verification_state, 'UNKNOWN') = ?"; binds.append(.text(verificationState)) }
        sql += " ORDER BY e.id LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        var rows: [(Int64, JSONValue)] = []
        try c.forEach(sql, binds) { s in rows.append((s.int(0), try store.event(s))) }
        let page = rows.prefix(limit)
        return jsonObject([("violationEvents", .array(page.map(\.1))),
                           ("nextToken", rows.count > limit ? .string(PageToken.encode(String(page.last!.0), scope: scope)) : nil)])
    }

    /// PutVerificationStateOnViolation.
    public func putVerificationState(violationId: String, state: String, description: String?) throws -> JSONValue {
        guard ["FALSE_POSITIVE", "BENIGN_POSITIVE", "TRUE_POSITIVE", "UNKNOWN"].contains(state) else {
            throw FleetError.invalid(member: "verificationState", "must be FALSE_POSITIVE, BENIGN_POSITIVE, TRUE_POSITIVE or UNKNOWN")
        }
        guard violationId.count == 32 else { throw FleetError.invalid("violationId must be 32 characters") }
        return try c.transaction {
            let inAlarm = try c.scalar("SELECT 1 FROM alarm WHERE violation_id = ?", [violationId]) != nil
            let row = try ViolationStore(db).row(of: violationId)
            guard inAlarm || row != nil else { throw FleetError.notFound("Violation \(violationId) cannot be found.") }
            try c.execute("UPDATE alarm SET verification_state = ?, verification_description = ? WHERE violation_id = ?", [state, description, violationId])
            if let row { try c.execute("UPDATE violation SET verification_state = ?, verification_description = ? WHERE id = ?", [state, description, row]) }
            return .object([])
        }
    }

    // MARK: metric values

    /// ListMetricValues: a datapoint for every evaluated tick in [start, end] for which the thing
    /// was monitored by the metric, ascending: the value the evaluation of that tick saw (stored
    /// runs). Ticks evaluated before migration 0008 have no runs: theirs are derived from the
    /// presence history, for things the attached profiles monitor now (the older rule).
    public func listMetricValues(thingName: String, metric: String, start: Int64, end: Int64, dimension: String?,
                                 maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 250, max: 10_000)
        if dimension != nil { throw FleetError.invalid(member: "dimensionName", "does not apply to cloud-side metrics") }
        guard Behavior.metrics.contains(metric), let code = MetricCode.code(metric) else {
            throw FleetError.invalid("metric '\(metric)' is not computed by fleetdex (\(Behavior.metrics.sorted().joined(separator: ", ")))")
        }
        guard start <= end else { throw FleetError.invalid(member: "startTime", "must not be after the end time") }
        let scope = "metrics|\(thingName)|\(metric)|\(start)|\(end)"
        let after = try PageToken.position(nextToken, scope: scope).flatMap { Int64($0) } ?? Int64.min
        let clientRow = try c.query("SELECT id, thing FROM client WHERE client_id = ?", [thingName]) { ($0.int(0), $0.optionalInt(1)) }.first
        let thing = try c.scalar("SELECT id FROM thing WHERE name = ?", [thingName])?.int
        guard clientRow != nil || thing != nil else { throw FleetError.notFound("Thing \(thingName) cannot be found.") }
        guard let client = clientRow?.0 else { return jsonObject([("metricDatumList", .array([]))]) }
        let ticks = try c.query("SELECT tick FROM evaluated_tick WHERE tick >= ? AND tick <= ? AND tick > ? ORDER BY tick",
                                [start, end, after]) { $0.int(0) }
        var points: [(Int64, Double)] = []
        let storedFrom = try db.meta("metric_runs_from").flatMap { Int64($0) } ?? Int64.min
        let legacy = ticks.filter { $0 < storedFrom }
        if !legacy.isEmpty {
            let monitored = try Monitor(db).profiles(client: client, thing: thing ?? clientRow?.1).contains { p in
                p.behaviors.contains { $0.metric == metric } || p.retained.contains(metric)
            }
            if monitored {
                let history = try PresenceHistory.load(c, client: client, until: legacy.last!)
                points = zip(legacy, history.values(metric, ticks: legacy)).compactMap { t, v in v.map { (t, $0) } }
            }
        }
        let stored = ticks.filter { $0 >= storedFrom }
        if let first = stored.first, let last = stored.last {
            let runs = try MetricRuns(c: c).covering(client: client, metric: code, from: first, through: last)
            var i = -1
            for t in stored {
                while i + 1 < runs.count && runs[i + 1].first <= t { i += 1 }
                if i >= 0, let v = runs[i].value(at: t) { points.append((t, Double(v))) }
                if points.count > limit { break }
            }
        }
        let shown = points.prefix(limit)
        return jsonObject([
            ("metricDatumList", .array(shown.map { jsonObject([("timestamp", .string(Timestamp.iso($0.0))), ("value", jsonObject([("count", .double($0.1))]))]) })),
            ("nextToken", points.count > limit ? .string(PageToken.encode(String(shown.last!.0), scope: scope)) : nil),
        ])
    }
}

/// One violation event, as stored and as published.
struct ViolationRecord {
    var violationId: String
    var client: Int64
    var thingName: String
    var profile: String
    var behavior: JSONValue
    var metricValue: Double?
    var type: String
    var time: Int64
    var verificationState: String?
    var verificationDescription: String?

    /// The notification text: exactly AWS's keys (timestamps in ms).
    var message: JSONValue {
        jsonObject([
            ("violationEventTime", .int(time)),
            ("thingName", .string(thingName)),
            ("behavior", behavior),
            ("violationEventType", .string(type)),
            ("metricValue", metricValue.map { jsonObject([("count", .double($0))]) } ?? .object([])),
            ("violationId", .string(violationId)),
            ("securityProfileName", .string(profile)),
            ("verificationState", type == "alarm-invalidated" ? .string(verificationState ?? "UNKNOWN") : nil),
        ])
    }
}

/// Violation events as stored (migration 0008): one `violation` row per alarm, whose
/// violationId is derived from its row id; one small `violation_event` row per event
/// (violation, type, time, value); the behavior's JSON once in `violation_behavior`.
///
/// The id: 128 bits, two halves `(row × K₁) ⊕ s₁` and `(row × K₂) ⊕ s₂` with the database's
/// random key (s₁, s₂) in `meta`. K₁, K₂ are odd, so the first half gives the row back and the
/// second checks it: ids look random, differ between databases and cost no storage.
final class ViolationStore {
    let db: FleetDatabase
    var c: Connection { db.connection }
    init(_ db: FleetDatabase) { self.db = db }

    static let types = ["in-alarm", "alarm-cleared", "alarm-invalidated"]
    static let k1: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let k2: UInt64 = 0xBF58_476D_1CE4_E5B9
    static let k1Inverse: UInt64 = {
        var x = k1  // Newton's iteration: each step doubles the correct low bits
        for _ in 0..<6 { x = x &* (2 &- k1 &* x) }
        return x
    }()

    private var cachedKey: (UInt64, UInt64)?
    private var behaviors: [String: Int64] = [:]

    func key() throws -> (UInt64, UInt64) {
        if let cachedKey { return cachedKey }
        var text = try db.meta("violation_key")
        if text == nil {
            text = FleetDatabase.hex32()
            try db.setMeta("violation_key", text)
        }
        let t = text!
        let k = (UInt64(t.prefix(16), radix: 16) ?? 0, UInt64(t.suffix(16), radix: 16) ?? 0)
        cachedKey = k
        return k
    }

    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The violationId of a violation row.
    func violationId(row: Int64) throws -> String {
        let (s1, s2) = try key()
        let r = UInt64(bitPattern: row)
        return Self.hex16((r &* Self.k1) ^ s1) + Self.hex16((r &* Self.k2) ^ s2)
    }

    /// The id shown for a stored violation: its legacy id, else the derived one.
    func violationId(row: Int64, legacy: String?) throws -> String {
        try legacy ?? violationId(row: row)
    }

    /// The row of a violationId, if it is one of this database's.
    func row(of violationId: String) throws -> Int64? {
        if violationId.utf8.count == 32, let hi = UInt64(violationId.prefix(16), radix: 16), let lo = UInt64(violationId.suffix(16), radix: 16) {
            let (s1, s2) = try key()
            let r = (hi ^ s1) &* Self.k1Inverse
            if (r &* Self.k2) ^ s2 == lo, r <= UInt64(Int64.max),
               try c.scalar("SELECT 1 FROM violation WHERE id = ? AND legacy_id IS NULL", [Int64(r)]) != nil {
                return Int64(r)
            }
        }
        return try c.scalar("SELECT id FROM violation WHERE legacy_id = ?", [violationId])?.int
    }

    /// The id of a (profile, behavior JSON), stored once.
    func behaviorID(profile: String, behavior: JSONValue) throws -> Int64 {
        let json = behavior.compact
        let key = profile + "\u{0}" + json
        if let known = behaviors[key] { return known }
        try c.execute("INSERT OR IGNORE INTO violation_behavior(profile, name, json) VALUES (?, ?, ?)",
                      [profile, behavior["name"]?.stringValue ?? "", json])
        let id = try c.scalar("SELECT id FROM violation_behavior WHERE profile = ? AND json = ?", [profile, json])!.int!
        behaviors[key] = id
        return id
    }

    /// A new violation (an alarm raised at `time`); returns its violationId.
    func newViolation(client: Int64, profile: String, behavior: JSONValue, at time: Int64) throws -> String {
        let b = try behaviorID(profile: profile, behavior: behavior)
        try c.execute("INSERT INTO violation(client, behavior, last_time) VALUES (?, ?, ?)", [client, b, time])
        return try violationId(row: c.lastInsertRowID)
    }

    /// Stores one event of a violation (created with the event's id when it is not stored,
    /// e.g. an alarm older than the retention).
    func insert(_ e: ViolationRecord) throws {
        var row = try row(of: e.violationId)
        if row == nil {
            let b = try behaviorID(profile: e.profile, behavior: e.behavior)
            try c.execute("INSERT INTO violation(client, behavior, last_time, legacy_id) VALUES (?, ?, ?, ?)", [e.client, b, e.time, e.violationId])
            row = c.lastInsertRowID
        }
        let type = Int64(Self.types.firstIndex(of: e.type) ?? 0)
        try c.execute("INSERT INTO violation_event(violation, type, time, metric_value) VALUES (?, ?, ?, ?)",
                      [row!, type, e.time, e.metricValue.map { Int64(exactly: $0.rounded()) ?? 0 }])
        if type == 2 {
            try c.execute("UPDATE violation SET last_time = max(last_time, ?), invalidation_reason = ? WHERE id = ?", [e.time, e.verificationDescription, row!])
        } else if type == 1 {
            try c.execute("UPDATE violation SET last_time = max(last_time, ?) WHERE id = ?", [e.time, row!])
        }
    }

    /// The SELECT list and joins that `event(_:)` reads, after `FROM violation_event AS e`.
    static let eventColumns = """
        SELECT e.id, v.id, v.legacy_id, c.client_id, b.profile, b.name, b.json, e.metric_value, e.time, e.type,
               v.verification_state, v.verification_description, v.invalidation_reason
        FROM violation_event AS e JOIN violation AS v ON v.id = e.violation
        JOIN client AS c ON c.id = v.client JOIN violation_behavior AS b ON b.id = v.behavior
        """

    /// A ViolationEvent (AWS shape) from a row of `eventColumns`.
    func event(_ s: Statement) throws -> JSONValue {
        let type = Int(s.int(9))
        let invalidated = type == 2
        let put = !s.isNull(10)
        let state: String? = put ? s.text(10) : (invalidated ? "UNKNOWN" : nil)
        let description: String? = put ? s.optionalText(11) : (invalidated ? s.optionalText(12) : nil)
        return jsonObject([
            ("violationId", .string(try violationId(row: s.int(1), legacy: s.optionalText(2)))),
            ("thingName", .string(s.text(3))), ("securityProfileName", .string(s.text(4))),
            ("behavior", (try? JSONValue.parse(s.text(6))) ?? .object([])),
            ("metricValue", s.isNull(7) ? nil : jsonObject([("count", .double(s.double(7)))])),
            ("violationEventType", .string(Self.types[min(max(type, 0), 2)])),
            ("verificationState", state.map(JSONValue.string)),
            ("verificationStateDescription", description.map(JSONValue.string)),
            ("violationEventTime", .string(Timestamp.iso(s.int(8)))),
        ])
    }

    /// In-alarm events, oldest first: (violationId, thing name, profile, behavior name).
    func inAlarmEvents(start: Int64?, end: Int64?) throws -> [(String, String, String, String)] {
        var sql = Self.eventColumns + " WHERE e.type = 0"
        var binds: [SQLiteValue] = []
        if let start, let end { sql += " AND e.time >= ? AND e.time <= ?"; binds += [.integer(start), .integer(end)] }
        var rows: [(Int64, String?, String, String, String)] = []
        try c.forEach(sql + " ORDER BY e.time, e.id", binds) { s in rows.append((s.int(1), s.optionalText(2), s.text(3), s.text(4), s.text(5))) }
        return try rows.map { (try violationId(row: $0.0, legacy: $0.1), $0.2, $0.3, $0.4) }
    }

    /// Drops violations with no event left in the retention and no active alarm, and the
    /// behaviors no violation uses.
    func prune(before cutoff: Int64) throws {
        try c.execute("DELETE FROM violation_event WHERE time < ?", [cutoff])
        var active = Set<Int64>()
        for vid in try c.query("SELECT violation_id FROM alarm WHERE violation_id IS NOT NULL", [], { $0.text(0) }) {
            if let r = try row(of: vid) { active.insert(r) }
        }
        let old = try c.query("SELECT id FROM violation WHERE last_time < ? AND id NOT IN (SELECT violation FROM violation_event)", [cutoff]) { $0.int(0) }
        let del = try c.prepare("DELETE FROM violation WHERE id = ?")
        for id in old where !active.contains(id) {
            try del.bind([.integer(id)])
            _ = try del.step()
        }
        try c.execute("DELETE FROM violation_behavior WHERE id NOT IN (SELECT behavior FROM violation)")
    }
}
