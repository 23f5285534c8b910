// FleetIndex: Detect mitigation: actions, and tasks that run them over chosen violations.
// ADD_THINGS_TO_THING_GROUP really adds the things; other action types are stored and
// validated, and their executions are recorded as SKIPPED with a reason.
import FleetSQLite

/// Mitigation actions and detect mitigation tasks.
public struct Mitigation {
    public let db: FleetDatabase
    var c: Connection { db.connection }
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
                guard let q = try c.query("SELECT query FROM thing_group WHERE name = ?", [name], { $0.optionalText(0) }).first else {
                    throw FleetError.notFound("Thing group \(name) cannot be found.")
                }
                if q != nil { throw FleetError.invalid("\(name) is a dynamic thing group: mitigation adds things to static groups only") }
            }
        }
        return try c.transaction {
            if try c.scalar("SELECT 1 FROM mitigation_action WHERE name = ?", [name]) != nil {
                throw FleetError.alreadyExists("Mitigation action \(name) already exists")
            }
            let id = FleetDatabase.uuid()
            try c.execute("INSERT INTO mitigation_action(name, action_id, role_arn, action_type, params, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [name, id, roleARN, type, params.compact, now, now])
            return jsonObject([("actionArn", .string(actionARN(name))), ("actionId", .string(id))])
        }
    }

    struct Action { var name: String; var id: String; var role: String; var type: String; var params: JSONValue; var created: Int64; var modified: Int64 }

    func action(_ name: String) throws -> Action {
        try Self.checkActionName(name)
        guard let a = try c.query("SELECT name, action_id, role_arn, action_type, params, created_at, modified_at FROM mitigation_action WHERE name = ?", [name], { s in
            Action(name: s.text(0), id: s.text(1), role: s.text(2), type: s.text(3), params: (try? JSONValue.parse(s.text(4))) ?? .object([]),
                   created: s.int(5), modified: s.int(6))
        }).first else { throw FleetError.notFound("Mitigation action \(name) cannot be found.") }
        return a
    }

    public func describeAction(name: String) throws -> JSONValue {
        let a = try action(name)
        return jsonObject([("actionName", .string(a.name)), ("actionType", .string(a.type)), ("actionArn", .string(actionARN(a.name))),
                           ("actionId", .string(a.id)), ("roleArn", .string(a.role)), ("actionParams", a.params),
                           ("creationDate", .string(Timestamp.iso(a.created))), ("lastModifiedDate", .string(Timestamp.iso(a.modified)))])
    }

    public func listActions(type: String?) throws -> JSONValue {
        var sql = "SELECT name, created_at FROM mitigation_action"
        var binds: [SQLiteValue] = []
        if let type { sql += " WHERE action_type = ?"; binds.append(.text(type)) }
        let rows = try c.query(sql + " ORDER BY name", binds) { s in
            jsonObject([("actionName", .string(s.text(0))), ("actionArn", .string(actionARN(s.text(0)))), ("creationDate", .string(Timestamp.iso(s.int(1))))])
        }
        return jsonObject([("actionIdentifiers", .array(rows))])
    }

    public func deleteAction(name: String) throws -> JSONValue {
        try Self.checkActionName(name)
        try c.execute("DELETE FROM mitigation_action WHERE name = ?", [name])
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
        return try c.transaction {
            if try c.scalar("SELECT 1 FROM mitigation_task WHERE task_id = ?", [taskId]) != nil {
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
            try c.execute("INSERT INTO mitigation_task(task_id, target, actions, options, status, started_at) VALUES (?, ?, ?, ?, 'IN_PROGRESS', ?)",
                          [taskId, target.compact, JSONValue.array(actions.map(JSONValue.string)).compact, options.compact, now])
            let task = c.lastInsertRowID
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
                    try c.execute("INSERT INTO mitigation_execution(task, violation_id, action_name, thing_name, started_at, ended_at, status, error_code, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                  [task, v.id, a.name, v.thing, now, now, status, code, message])
                }
            }
            try c.execute("UPDATE mitigation_task SET status = ?, ended_at = ? WHERE id = ?", [failed ? "FAILED" : "SUCCESSFUL", now, task])
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
        try c.forEach("SELECT name, behaviors FROM security_profile") { s in
            for b in (try? JSONValue.parse(s.text(1)))?.arrayValue ?? [] where b["suppressAlerts"]?.boolValue == true {
                if let n = b["name"]?.stringValue { out.insert("\(s.text(0))|\(n)") }
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
            try c.forEach("SELECT a.violation_id, c.client_id, a.profile, a.behavior, a.start_time FROM alarm AS a JOIN client AS c ON c.id = a.client WHERE a.in_alarm = 1 ORDER BY a.violation_id") { s in
                if let start, let end, !(start...end).contains(s.int(4)) { return }
                add(Violation(id: s.text(0), thing: s.text(1), profile: s.text(2), behavior: s.text(3)))
            }
        }
        if !onlyActive {
            for e in try ViolationStore(db).inAlarmEvents(start: start, end: end) { add(Violation(id: e.0, thing: e.1, profile: e.2, behavior: e.3)) }
        }
        return out
    }

    public func listExecutions(taskId: String?, violationId: String?, thingName: String?, start: Int64?, end: Int64?) throws -> JSONValue {
        var sql = """
            SELECT t.task_id, e.violation_id, e.action_name, e.thing_name, e.started_at, e.ended_at, e.status, e.error_code, e.message
            FROM mitigation_execution AS e JOIN mitigation_task AS t ON t.id = e.task WHERE 1
            """
        var binds: [SQLiteValue] = []
        if let taskId { sql += " AND t.task_id = ?"; binds.append(.text(taskId)) }
        if let violationId { sql += " AND e.violation_id = ?"; binds.append(.text(violationId)) }
        if let thingName { sql += " AND e.thing_name = ?"; binds.append(.text(thingName)) }
        if let start { sql += " AND e.started_at >= ?"; binds.append(.integer(start)) }
        if let end { sql += " AND e.started_at <= ?"; binds.append(.integer(end)) }
        let rows = try c.query(sql + " ORDER BY e.id", binds) { s in
            jsonObject([("taskId", .string(s.text(0))), ("violationId", .string(s.text(1))), ("actionName", .string(s.text(2))),
                        ("thingName", .string(s.text(3))), ("executionStartDate", .string(Timestamp.iso(s.int(4)))),
                        ("executionEndDate", s.optionalInt(5).map { .string(Timestamp.iso($0)) }), ("status", .string(s.text(6))),
                        ("errorCode", s.optionalText(7).map(JSONValue.string)), ("message", s.optionalText(8).map(JSONValue.string))])
        }
        return jsonObject([("actionsExecutions", .array(rows))])
    }

    public func describeTask(taskId: String) throws -> JSONValue {
        guard let t = try c.query("SELECT id, status, started_at, ended_at, target, actions, options FROM mitigation_task WHERE task_id = ?", [taskId], { s in
            (s.int(0), s.text(1), s.int(2), s.optionalInt(3), s.text(4), s.text(5), s.text(6))
        }).first else { throw FleetError.notFound("Task \(taskId) cannot be found.") }
        let stats = try c.query("SELECT status, count(*) FROM mitigation_execution WHERE task = ? GROUP BY status", [t.0]) { ($0.text(0), $0.int(1)) }
        let count = { (s: String) in stats.first { $0.0 == s }?.1 ?? 0 }
        let options = (try? JSONValue.parse(t.6)) ?? .object([])
        let defs = try ((try? JSONValue.parse(t.5))?.arrayValue ?? []).compactMap(\.stringValue).compactMap { name -> JSONValue? in
            guard let a = try? action(name) else { return jsonObject([("name", .string(name))]) }
            return jsonObject([("name", .string(a.name)), ("id", .string(a.id)), ("roleArn", .string(a.role)), ("actionParams", a.params)])
        }
        return jsonObject([("taskSummary", jsonObject([
            ("taskId", .string(taskId)), ("taskStatus", .string(t.1)), ("taskStartTime", .string(Timestamp.iso(t.2))),
            ("taskEndTime", t.3.map { .string(Timestamp.iso($0)) }), ("target", (try? JSONValue.parse(t.4)) ?? .object([])),
            ("violationEventOccurrenceRange", options["violationEventOccurrenceRange"].flatMap { $0.isNull ? nil : $0 }),
            ("onlyActiveViolationsIncluded", options["includeOnlyActiveViolations"] ?? .bool(false)),
            ("suppressedAlertsIncluded", options["includeSuppressedAlerts"] ?? .bool(false)),
            ("actionsDefinition", .array(defs)),
            ("taskStatistics", jsonObject([("actionsExecuted", .int(count("SUCCESSFUL") + count("FAILED"))), ("actionsSkipped", .int(count("SKIPPED"))),
                                           ("actionsFailed", .int(count("FAILED")))])),
        ]))])
    }
}
