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
        for r in rows {
            try db.touch(selectedBy: "SELECT thing FROM alarm WHERE client = ? AND profile = ? AND behavior = ? AND thing IS NOT NULL", [r.0, r.1, r.2])
            try c.execute("DELETE FROM alarm WHERE client = ? AND profile = ? AND behavior = ?", [r.0, r.1, r.2])
            guard r.6, let vid = r.3 else { continue }
            let p = profiles[r.1]
            let behaviorJSON = p.flatMap { try? JSONValue.parse($0.0) }?.arrayValue?.first { $0["name"]?.stringValue == r.2 } ?? jsonObject([("name", .string(r.2))])
            let event = ViolationRecord(violationId: vid, thingName: r.5, profile: r.1, behavior: behaviorJSON, metricValue: r.4,
                                        type: "alarm-invalidated", time: now, verificationState: "UNKNOWN",
                                        verificationDescription: reason)
            try event.insert(c)
            let topic = p?.1.flatMap { try? JSONValue.parse($0) }?["SNS"]?["alertTargetArn"]?.stringValue
            if let topic, behaviorJSON["suppressAlerts"]?.boolValue != true {
                try alerts.publish(event, topicARN: topic, at: now)
            }
        }
    }

    func invalidate(thing: Int64, reason: String, at now: Int64) throws {
        try invalidate(profile: nil, behavior: nil, thing: thing, reason: reason, at: now)
    }

    /// A ViolationEvent from a row of
    /// (violation_id, client_id, profile, behavior_json, metric_value, time, -, state, description, type).
    static func violationEventJSON(_ s: Statement) -> JSONValue {
        let behavior = (try? JSONValue.parse(s.text(3))) ?? .object([])
        let value: JSONValue? = s.isNull(4) ? nil : jsonObject([("count", .double(s.double(4)))])
        return jsonObject([
            ("violationId", .string(s.text(0))), ("thingName", .string(s.text(1))), ("securityProfileName", .string(s.text(2))),
            ("behavior", behavior), ("metricValue", value),
            ("violationEventType", .string(s.text(9))),
            ("verificationState", s.optionalText(7).map(JSONValue.string)),
            ("verificationStateDescription", s.optionalText(8).map(JSONValue.string)),
            ("violationEventTime", .string(Timestamp.iso(s.int(5)))),
        ])
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
        var sql = """
            SELECT violation_id, client_id, profile, behavior_json, metric_value, time, NULL, verification_state,
                   verification_description, event_type, id
            FROM violation_event WHERE time >= ? AND time <= ? AND id > ?
            """
        var binds: [SQLiteValue] = [.integer(start), .integer(end), .integer(after)]
        if let thingName { sql += " AND client_id = ?"; binds.append(.text(thingName)) }
        if let profile { sql += " AND profile = ?"; binds.append(.text(profile)) }
        if let criteriaType, criteriaType != "STATIC" { sql += " AND 0" }
        if let verificationState { sql += " AND coalesce(verification_state, 'UNKNOWN') = ?"; binds.append(.text(verificationState)) }
        sql += " ORDER BY id LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        let rows = try c.query(sql, binds) { s in (s.int(10), Defender.violationEventJSON(s)) }
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
            let inEvents = try c.scalar("SELECT 1 FROM violation_event WHERE violation_id = ?", [violationId]) != nil
            guard inAlarm || inEvents else { throw FleetError.notFound("Violation \(violationId) cannot be found.") }
            try c.execute("UPDATE alarm SET verification_state = ?, verification_description = ? WHERE violation_id = ?", [state, description, violationId])
            try c.execute("UPDATE violation_event SET verification_state = ?, verification_description = ? WHERE violation_id = ?", [state, description, violationId])
            return .object([])
        }
    }

    // MARK: metric values

    /// ListMetricValues: a datapoint for every evaluated tick in [start, end] while the thing
    /// was monitored by the metric, ascending. Derived from the presence history.
    public func listMetricValues(thingName: String, metric: String, start: Int64, end: Int64, dimension: String?,
                                 maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 250, max: 10_000)
        if dimension != nil { throw FleetError.invalid(member: "dimensionName", "does not apply to cloud-side metrics") }
        guard Behavior.metrics.contains(metric) else {
            throw FleetError.invalid("metric '\(metric)' is not computed by fleetdex (\(Behavior.metrics.sorted().joined(separator: ", ")))")
        }
        guard start <= end else { throw FleetError.invalid(member: "startTime", "must not be after the end time") }
        let scope = "metrics|\(thingName)|\(metric)|\(start)|\(end)"
        let after = try PageToken.position(nextToken, scope: scope).flatMap { Int64($0) } ?? Int64.min
        let clientRow = try c.query("SELECT id, thing FROM client WHERE client_id = ?", [thingName]) { ($0.int(0), $0.optionalInt(1)) }.first
        let thing = try c.scalar("SELECT id FROM thing WHERE name = ?", [thingName])?.int
        guard clientRow != nil || thing != nil else { throw FleetError.notFound("Thing \(thingName) cannot be found.") }
        // Monitored: an attached profile that targets the thing uses the metric.
        let monitor = Monitor(db)
        let monitored = try monitor.profiles(client: clientRow?.0, thing: thing ?? clientRow?.1).contains { p in
            p.behaviors.contains { $0.metric == metric } || p.retained.contains(metric)
        }
        var points: [(Int64, Double)] = []
        if monitored {
            let ticks = try c.query("SELECT tick FROM evaluated_tick WHERE tick >= ? AND tick <= ? AND tick > ? ORDER BY tick LIMIT ?",
                                    [start, end, after, limit + 1]) { $0.int(0) }
            let history = try clientRow.map { try PresenceHistory.load(c, client: $0.0, until: ticks.last ?? 0) } ?? PresenceHistory(events: [])
            let values = history.values(metric, ticks: ticks)
            points = zip(ticks, values).compactMap { t, v in v.map { (t, $0) } }
            if metric == "aws:disconnect-duration" && clientRow == nil { points = [] }
            let more = ticks.count > limit
            let shown = Array(points.prefix(while: { $0.0 <= (more ? ticks[limit - 1] : Int64.max) }))
            return jsonObject([
                ("metricDatumList", .array(shown.map { jsonObject([("timestamp", .string(Timestamp.iso($0.0))), ("value", jsonObject([("count", .double($0.1))]))]) })),
                ("nextToken", more ? .string(PageToken.encode(String(ticks[limit - 1]), scope: scope)) : nil),
            ])
        }
        return jsonObject([("metricDatumList", .array([]))])
    }
}

/// One violation event, as stored and as published.
struct ViolationRecord {
    var violationId: String
    var thingName: String
    var profile: String
    var behavior: JSONValue
    var metricValue: Double?
    var type: String
    var time: Int64
    var verificationState: String?
    var verificationDescription: String?

    func insert(_ c: Connection) throws {
        try c.execute("""
            INSERT INTO violation_event(violation_id, client_id, profile, behavior, behavior_json, metric_value, event_type, time, verification_state, verification_description)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [violationId, thingName, profile, behavior["name"]?.stringValue ?? "", behavior.compact, metricValue, type, time,
                  verificationState, verificationDescription])
    }

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
