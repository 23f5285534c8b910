// FleetIndex: Detect mitigation: actions, and tasks that run them over chosen violations.
// ADD_THINGS_TO_THING_GROUP really adds the things; other action types are stored and
// validated, and their executions are recorded as SKIPPED with a reason.

/// Mitigation actions and detect mitigation tasks.
public struct Mitigation {
    public let db: FleetDatabase
    var store: MitigationStore { db.mitigation }
    public init(_ db: FleetDatabase) { self.db = db }

    static let types: [String: String] = [
        "addThingsToThingGroupParams": "ADD_THINGS_TO_THING_GROUP", "updateDeviceCertificateParams": "UPDATE_DEVICE_CERTIFICATE",
        "updateCACertificateParams": "UPDATE_CA_CERTIFICATE", "replaceDefaultPolicyVersionParams": "REPLACE_DEFAULT_POLICY_VERSION",
        "enableIoTLoggingParams": "ENABLE_IOT_LOGGING", "publishFindingToSnsParams": "PUBLISH_FINDING_TO_SNS",
    ]

    func actionARN(_ name: String) -> String { db.iotARN("mitigationaction/\(name)") }

    static func checkActionName(_ name: String) throws(FleetError) {
        guard !name.isEmpty, name.utf8.count <= 128,
              name.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw .invalid("actionName '\(name)' must be 1 to 128 characters of [a-zA-Z0-9_-]")
        }
    }

    public func createAction(name: String, roleARN: String, params: JSONValue, at now: Int64) throws -> JSONValue {
        try Self.checkActionName(name)
        guard roleARN.hasPrefix("arn:") else { throw FleetError.invalid(member: "roleArn", "must be an IAM role ARN") }
        guard case .object(let members) = params, members.count == 1, let type = Self.types[members[0].key] else {
            throw FleetError.invalid(member: "actionParams", "must hold exactly one of \(Self.types.keys.sorted().joined(separator: ", "))")
        }
        if type == "ADD_THINGS_TO_THING_GROUP" {
            guard let groups = params["addThingsToThingGroupParams"]?["thingGroupNames"]?.arrayValue, !groups.isEmpty, groups.count <= 10 else {
                throw FleetError.invalid("addThingsToThingGroupParams.thingGroupNames must list 1 to 10 thing groups")
            }
            for g in groups {
                guard let name = g.stringValue else { throw FleetError.invalid("thingGroupNames must be names") }
                try Validation.name(name, "thingGroupName")
                guard let g = try db.things.groupKey(named: name) else {
                    throw FleetError.notFound("Thing group \(name) cannot be found.")
                }
                if g.isDynamic { throw FleetError.invalid("\(name) is a dynamic thing group: mitigation adds things to static groups only") }
            }
        }
        return try db.transaction {
            if try store.actionExists(named: name) {
                throw FleetError.alreadyExists("Mitigation action \(name) already exists")
            }
            let id = FleetDatabase.uuid()
            try store.insertAction(name: name, id: id, roleARN: roleARN, type: type, params: params.compact, at: now)
            return jsonObject([("actionArn", .string(actionARN(name))), ("actionId", .string(id))])
        }
    }

    typealias Action = MitigationActionRecord

    func action(_ name: String) throws -> Action {
        try Self.checkActionName(name)
        guard let a = try store.action(named: name) else { throw FleetError.notFound("Mitigation action \(name) cannot be found.") }
        return a
    }

    public func describeAction(name: String) throws -> JSONValue {
        let a = try action(name)
        return jsonObject([("actionName", .string(a.name)), ("actionType", .string(a.type)), ("actionArn", .string(actionARN(a.name))),
                           ("actionId", .string(a.id)), ("roleArn", .string(a.role)), ("actionParams", a.params),
                           ("creationDate", .string(Timestamp.iso(a.created))), ("lastModifiedDate", .string(Timestamp.iso(a.modified)))])
    }

    public func listActions(type: String?) throws -> JSONValue {
        let rows = try store.actions(type: type).map { a in
            jsonObject([("actionName", .string(a.name)), ("actionArn", .string(actionARN(a.name))), ("creationDate", .string(Timestamp.iso(a.created)))])
        }
        return jsonObject([("actionIdentifiers", .array(rows))])
    }

    public func deleteAction(name: String) throws -> JSONValue {
        try Self.checkActionName(name)
        try store.deleteAction(named: name)
        return .object([])
    }

    struct Violation { var id: String; var thing: String; var profile: String; var behavior: String }

    /// StartDetectMitigationActionsTask: picks the violations (by ids, by profile and
    /// behavior, within a time range, active only), runs every action on each, records executions.
    public func startTask(taskId: String, target: JSONValue, actions: [String], range: JSONValue?, onlyActive: Bool,
                          includeSuppressed: Bool, at now: Int64) throws -> JSONValue {
        guard !taskId.isEmpty, taskId.utf8.count <= 128,
              taskId.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw FleetError.invalid(member: "taskId", "must be 1 to 128 characters of [a-zA-Z0-9_-]")
        }
        guard !actions.isEmpty, actions.count <= 5 else { throw FleetError.invalid(member: "actions", "takes 1 to 5 mitigation action names") }
        let ids = target["violationIds"]?.arrayValue?.compactMap(\.stringValue)
        let profile = target["securityProfileName"]?.stringValue
        let behavior = target["behaviorName"]?.stringValue
        guard ids != nil || profile != nil else { throw FleetError.invalid(member: "target", "needs violationIds or securityProfileName") }
        if behavior != nil && profile == nil { throw FleetError.invalid(member: "target", "behaviorName needs securityProfileName") }
        var start: Int64? = nil, end: Int64? = nil
        if let range {
            guard let s = range["startTime"].flatMap(Self.time), let e = range["endTime"].flatMap(Self.time) else {
                throw FleetError.invalid(member: "violationEventOccurrenceRange", "needs startTime and endTime, times in the years 1970 to 9999")
            }
            start = s; end = e
        }
        return try db.transaction {
            if try store.taskExists(taskId) {
                throw FleetError.alreadyExists("Task \(taskId) already exists")
            }
            let defs = try actions.map { try action($0) }
            var violations = try select(ids: ids, profile: profile, behavior: behavior, start: start, end: end, onlyActive: onlyActive)
            if !includeSuppressed {
                let suppressed = try suppressedBehaviors()
                violations = violations.filter { !suppressed.contains("\($0.profile)|\($0.behavior)") }
            }
            let options = jsonObject([("violationEventOccurrenceRange", range), ("includeOnlyActiveViolations", .bool(onlyActive)),
                                      ("includeSuppressedAlerts", .bool(includeSuppressed))])
            let task = try store.insertTask(taskId: taskId, target: target.compact, actions: JSONValue.array(actions.map(JSONValue.string)).compact,
                                            options: options.compact, at: now)
            let registry = Registry(db)
            var failed = false
            for v in violations {
                for a in defs {
                    var status = "SUCCESSFUL", code: String? = nil, message: String? = nil
                    if a.type == "ADD_THINGS_TO_THING_GROUP" {
                        let override = a.params["addThingsToThingGroupParams"]?["overrideDynamicGroups"]?.boolValue ?? false
                        for g in a.params["addThingsToThingGroupParams"]?["thingGroupNames"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                            do {
                                _ = try registry.addThingToThingGroup(group: g, thingName: v.thing, overrideDynamicGroups: override, at: now)
                            } catch let e as FleetError {
                                status = "FAILED"; code = e.exception; message = e.message
                            }
                        }
                    } else {
                        status = "SKIPPED"
                        message = "\(a.type) is stored and validated, but fleetdex runs only ADD_THINGS_TO_THING_GROUP"
                    }
                    if status == "FAILED" { failed = true }
                    try store.insertExecution(task: task, violationId: v.id, actionName: a.name, thingName: v.thing, at: now,
                                              status: status, errorCode: code, message: message)
                }
            }
            try store.finishTask(task, status: failed ? "FAILED" : "SUCCESSFUL", at: now)
            return jsonObject([("taskId", .string(taskId))])
        }
    }

    static func time(_ v: JSONValue) -> Int64? {
        if let s = v.stringValue { return Timestamp.parse(s) }
        if let d = v.doubleValue { return Timestamp.epoch(d) }
        return nil
    }

    func suppressedBehaviors() throws -> Set<String> {
        var out = Set<String>()
        for p in try store.profileBehaviors() {
            for b in p.behaviors where b["suppressAlerts"]?.boolValue == true {
                if let n = b["name"]?.stringValue { out.insert("\(p.name)|\(n)") }
            }
        }
        return out
    }

    func select(ids: [String]?, profile: String?, behavior: String?, start: Int64?, end: Int64?, onlyActive: Bool) throws -> [Violation] {
        var seen = Set<String>()
        var out: [Violation] = []
        func add(_ v: Violation) {
            if let ids, !ids.contains(v.id) { return }
            if let profile, v.profile != profile { return }
            if let behavior, v.behavior != behavior { return }
            if seen.insert(v.id).inserted { out.append(v) }
        }
        if onlyActive || start == nil {
            for a in try store.activeViolations() {
                if let start, let end, !(start...end).contains(a.startTime) { continue }
                add(Violation(id: a.violationId, thing: a.clientId, profile: a.profile, behavior: a.behavior))
            }
        }
        if !onlyActive {
            for e in try ViolationStore(db).inAlarmEvents(start: start, end: end) { add(Violation(id: e.0, thing: e.1, profile: e.2, behavior: e.3)) }
        }
        return out
    }

    public func listExecutions(taskId: String?, violationId: String?, thingName: String?, start: Int64?, end: Int64?) throws -> JSONValue {
        let rows = try store.executions(taskId: taskId, violationId: violationId, thingName: thingName, start: start, end: end).map { e in
            jsonObject([("taskId", .string(e.taskId)), ("violationId", .string(e.violationId)), ("actionName", .string(e.actionName)),
                        ("thingName", .string(e.thingName)), ("executionStartDate", .string(Timestamp.iso(e.startedAt))),
                        ("executionEndDate", e.endedAt.map { .string(Timestamp.iso($0)) }), ("status", .string(e.status)),
                        ("errorCode", e.errorCode.map(JSONValue.string)), ("message", e.message.map(JSONValue.string))])
        }
        return jsonObject([("actionsExecutions", .array(rows))])
    }

    public func describeTask(taskId: String) throws -> JSONValue {
        guard let t = try store.task(taskId) else { throw FleetError.notFound("Task \(taskId) cannot be found.") }
        let stats = try store.executionCounts(task: t.id)
        let count = { (s: String) in stats.first { $0.0 == s }?.1 ?? 0 }
        let options = t.options ?? .object([])
        let defs = try (t.actions?.arrayValue ?? []).compactMap(\.stringValue).compactMap { name -> JSONValue? in
            guard let a = try? action(name) else { return jsonObject([("name", .string(name))]) }
            return jsonObject([("name", .string(a.name)), ("id", .string(a.id)), ("roleArn", .string(a.role)), ("actionParams", a.params)])
        }
        return jsonObject([("taskSummary", jsonObject([
            ("taskId", .string(taskId)), ("taskStatus", .string(t.status)), ("taskStartTime", .string(Timestamp.iso(t.startedAt))),
            ("taskEndTime", t.endedAt.map { .string(Timestamp.iso($0)) }), ("target", t.target ?? .object([])),
            ("violationEventOccurrenceRange", options["violationEventOccurrenceRange"].flatMap { $0.isNull ? nil : $0 }),
            ("onlyActiveViolationsIncluded", options["includeOnlyActiveViolations"] ?? .bool(false)),
            ("suppressedAlertsIncluded", options["includeSuppressedAlerts"] ?? .bool(false)),
            ("actionsDefinition", .array(defs)),
            ("taskStatistics", jsonObject([("actionsExecuted", .int(count("SUCCESSFUL") + count("FAILED"))), ("actionsSkipped", .int(count("SKIPPED"))),
                                           ("actionsFailed", .int(count("FAILED")))])),
        ]))])
    }
}
