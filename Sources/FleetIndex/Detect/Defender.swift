// FleetIndex: Device Defender Detect operations: security profiles, their targets,
// violations (active and events), verification states and metric values.
import FleetSQLite

/// The Device Defender Detect operations.
public struct Defender {
    public let db: FleetDatabase
    var profiles: ProfileStore { db.profiles }
    var alarms: AlarmStore { db.alarms }
    public init(_ db: FleetDatabase) { self.db = db }

    /// A profile as the evaluation sees it.
    public struct Profile {
        public var id: Int64
        public var name: String
        public var behaviors: [Behavior]
        public var alertTopic: String?
        public var retained: Set<String>
    }

    /// Every profile with at least one target.
    public func attachedProfiles() throws -> [Profile] {
        try profiles.attachedProfiles()
    }

    func profileRow(_ name: String) throws -> Profile? {
        try profiles.profile(named: name)
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
        if try !profiles.topicExists(arn: arn) {
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
        return try db.transaction {
            if try profileRow(name) != nil { throw FleetError.alreadyExists("Security profile \(name) already exists") }
            try checkTopic(alertTargets)
            try profiles.insert(name: name, description: description, behaviors: (behaviors ?? .array([])).compact,
                                alertTargets: alertTargets?.compact, additionalMetrics: additionalMetrics?.compact, at: now)
            return jsonObject([("securityProfileName", .string(name)), ("securityProfileArn", .string(db.profileARN(name)))])
        }
    }

    public func describeSecurityProfile(name: String) throws -> JSONValue {
        try Validation.name(name, "securityProfileName")
        guard let r = try profiles.description(named: name) else { throw FleetError.notFound("Security profile \(name) cannot be found.") }
        return jsonObject([
            ("securityProfileName", .string(r.name)),
            ("securityProfileArn", .string(db.profileARN(r.name))),
            ("securityProfileDescription", r.description.map(JSONValue.string)),
            ("behaviors", r.behaviors),
            ("alertTargets", r.alertTargets),
            ("additionalMetricsToRetainV2", r.additionalMetrics),
            ("version", .int(r.version)),
            ("creationDate", .string(Timestamp.iso(r.created))),
            ("lastModifiedDate", .string(Timestamp.iso(r.modified))),
        ])
    }

    /// UpdateSecurityProfile: changed or removed behaviors invalidate their active violations.
    public func updateSecurityProfile(name: String, description: String?, behaviors: JSONValue?, alertTargets: JSONValue?,
                                      additionalMetrics: JSONValue?, deleteBehaviors: Bool, deleteAlertTargets: Bool,
                                      deleteAdditionalMetrics: Bool, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        let errors = Defender.validate(behaviors: behaviors, alertTargets: alertTargets, additionalMetrics: additionalMetrics)
        guard errors.isEmpty else { throw FleetError.invalid(errors.joined(separator: "; ")) }
        return try db.transaction {
            let p = try requireProfile(name)
            let version = try profiles.version(of: p.id) ?? 1
            if let expectedVersion, expectedVersion != version { throw FleetError.versionConflict("The version of security profile \(name) is \(version), not \(expectedVersion)") }
            try checkTopic(alertTargets)
            if let d = description { try profiles.setDescription(p.id, d) }
            if behaviors != nil || deleteBehaviors {
                let newList = deleteBehaviors ? [] : Behavior.parseList(behaviors!).behaviors
                for old in p.behaviors where !newList.contains(where: { $0.name == old.name && $0.json == old.json }) {
                    try invalidate(profile: p.name, behavior: old.name, reason: "the behavior was changed or removed", at: now)
                }
                try profiles.setBehaviors(p.id, (deleteBehaviors ? .array([]) : behaviors!).compact)
            }
            if alertTargets != nil || deleteAlertTargets { try profiles.setAlertTargets(p.id, deleteAlertTargets ? nil : alertTargets?.compact) }
            if additionalMetrics != nil || deleteAdditionalMetrics { try profiles.setAdditionalMetrics(p.id, deleteAdditionalMetrics ? nil : additionalMetrics?.compact) }
            try profiles.bumpVersion(p.id, at: now)
            try EvaluationCycle.monitoringChanged(db)
            return try describeSecurityProfile(name: name)
        }
    }

    public func deleteSecurityProfile(name: String, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        try db.transaction {
            let p = try requireProfile(name)
            if let expectedVersion, let v = try profiles.version(of: p.id), v != expectedVersion {
                throw FleetError.versionConflict("The version of security profile \(name) is \(v), not \(expectedVersion)")
            }
            try invalidate(profile: p.name, behavior: nil, reason: "the security profile was deleted", at: now)
            try profiles.delete(p.id)
            try db.touchAll()
            try EvaluationCycle.monitoringChanged(db)
            return .object([])
        }
    }

    public func listSecurityProfiles(maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 100, max: 250)
        let after = try PageToken.position(nextToken, scope: "profiles") ?? ""
        let names = try profiles.names(after: after, limit: limit + 1)
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
        try db.transaction {
            let p = try requireProfile(name)
            let (kind, group) = try target(targetARN)
            let count = try profiles.profileCount(target: targetARN)
            if count >= 5 { throw FleetError.limitExceeded("At most 5 security profiles can be attached to one target") }
            try profiles.attach(p.id, arn: targetARN, kind: kind, group: group)
            try db.touchAll()  // deviceDefender.violationCount now exists for new things
            try EvaluationCycle.monitoringChanged(db)
            return .object([])
        }
    }

    public func detachSecurityProfile(name: String, targetARN: String, at now: Int64) throws -> JSONValue {
        try db.transaction {
            let p = try requireProfile(name)
            guard try profiles.isAttached(p.id, arn: targetARN) else {
                throw FleetError.notFound("Security profile \(name) is not attached to \(targetARN)")
            }
            try profiles.detach(p.id, arn: targetARN)
            try db.touchAll()
            try EvaluationCycle.monitoringChanged(db)
            if try !profiles.hasTargets(p.id) {
                try invalidate(profile: p.name, behavior: nil, reason: "the security profile was detached", at: now)
            }
            // Things that left the remaining targets are invalidated by the next evaluation.
            return .object([])
        }
    }

    public func listTargetsForSecurityProfile(name: String) throws -> JSONValue {
        let p = try requireProfile(name)
        let arns = try profiles.targetARNs(of: p.id)
        return jsonObject([("securityProfileTargets", .array(arns.map { jsonObject([("arn", .string($0))]) }))])
    }

    public func listSecurityProfilesForTarget(targetARN: String, recursive: Bool) throws -> JSONValue {
        var arns = [targetARN]
        if recursive, let (kind, group) = try? target(targetARN), kind == "group", let group {
            arns = try profiles.groupAndAncestorNames(group).map { db.groupARN($0) }
        }
        var out: [JSONValue] = []
        for arn in arns {
            let names = try profiles.profileNames(target: arn)
            out += names.map { jsonObject([("securityProfileIdentifier", jsonObject([("name", .string($0)), ("arn", .string(db.profileARN($0)))])),
                                           ("target", jsonObject([("arn", .string(arn))]))]) }
        }
        return jsonObject([("securityProfileTargetMappings", .array(out))])
    }

    // MARK: violations

    /// Writes an alarm-invalidated event for matching active alarms and removes their slots.
    func invalidate(profile: String?, behavior: String?, thing: Int64? = nil, reason: String, at now: Int64) throws {
        let rows = try alarms.alarms(profile: profile, behavior: behavior, thing: thing).map { a in
            (a.client, a.profile, a.behavior, a.violationId, a.lastValue, a.clientId, a.inAlarm)
        }
        let profiles = try self.profiles.behaviorsAndTargets()
        let alerts = Alerts(db)
        let store = ViolationStore(db)
        for r in rows {
            try db.touch(alarmOf: r.0, profile: r.1, behavior: r.2)
            try alarms.deleteAlarm(client: r.0, profile: r.1, behavior: r.2)
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
        let none = criteriaType.map { $0 != "STATIC" } ?? false
        let rows = try alarms.activeViolations(after: after, thingName: thingName, profile: profile, none: none,
                                               verificationState: verificationState, limit: limit + 1).map { r -> (String, JSONValue) in
            let b = r.profileBehaviors.first { $0["name"]?.stringValue == r.behaviorName } ?? jsonObject([("name", .string(r.behaviorName))])
            let value: JSONValue? = r.lastValue.map { jsonObject([("count", .double($0))]) }
            return (r.violationId, jsonObject([
                ("violationId", .string(r.violationId)), ("thingName", .string(r.thingName)), ("securityProfileName", .string(r.profile)),
                ("behavior", b), ("lastViolationValue", value),
                ("lastViolationTime", r.lastTime.map { .string(Timestamp.iso($0)) }),
                ("violationStartTime", r.startTime.map { .string(Timestamp.iso($0)) }),
                ("verificationState", r.verificationState.map(JSONValue.string)),
                ("verificationStateDescription", r.verificationDescription.map(JSONValue.string)),
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
        let rows = try store.events(from: start, through: end, after: after, thingName: thingName, profile: profile,
                                    none: criteriaType.map { $0 != "STATIC" } ?? false, verificationState: verificationState, limit: limit + 1)
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
        return try db.transaction {
            let inAlarm = try alarms.hasAlarm(violationId: violationId)
            let row = try ViolationStore(db).row(of: violationId)
            guard inAlarm || row != nil else { throw FleetError.notFound("Violation \(violationId) cannot be found.") }
            try alarms.setVerification(violationId: violationId, row: row, state: state, description: description)
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
        let clientRow = try alarms.client(named: thingName)
        let thing = try alarms.thingID(named: thingName)
        guard clientRow != nil || thing != nil else { throw FleetError.notFound("Thing \(thingName) cannot be found.") }
        guard let client = clientRow?.0 else { return jsonObject([("metricDatumList", .array([]))]) }
        let ticks = try alarms.evaluatedTicks(from: start, through: end, after: after)
        var points: [(Int64, Double)] = []
        let storedFrom = try db.meta("metric_runs_from").flatMap { Int64($0) } ?? Int64.min
        let legacy = ticks.filter { $0 < storedFrom }
        if !legacy.isEmpty {
            let monitored = try Monitor(db).profiles(client: client, thing: thing ?? clientRow?.1).contains { p in
                p.behaviors.contains { $0.metric == metric } || p.retained.contains(metric)
            }
            if monitored {
                let history = try PresenceHistory.load(db.connection, client: client, until: legacy.last!)
                points = zip(legacy, history.values(metric, ticks: legacy)).compactMap { t, v in v.map { (t, $0) } }
            }
        }
        let stored = ticks.filter { $0 >= storedFrom }
        if let first = stored.first, let last = stored.last {
            let runs = try db.metricRuns.covering(client: client, metric: code, from: first, through: last)
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
