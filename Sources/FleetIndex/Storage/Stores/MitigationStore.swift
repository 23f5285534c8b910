// FleetIndex storage: mitigation actions, detect mitigation tasks and their executions.
import FleetSQLite

/// A mitigation action (its parameters parsed once, when loaded).
struct MitigationActionRecord {
    var name: String
    var id: String
    var role: String
    var type: String
    var params: JSONValue
    var created: Int64
    var modified: Int64

    /// Columns: `name, action_id, role_arn, action_type, params, created_at, modified_at`.
    init(row s: StoreRow) {
        (name, id, role, type) = (s.text(0), s.text(1), s.text(2), s.text(3))
        params = (try? JSONValue.parse(s.text(4))) ?? .object([])
        (created, modified) = (s.int(5), s.int(6))
    }
}

/// A detect mitigation task (its stored JSON parsed once, when loaded).
struct MitigationTaskRecord {
    var id: Int64
    var status: String
    var startedAt: Int64
    var endedAt: Int64?
    var target: JSONValue?
    var actions: JSONValue?
    var options: JSONValue?

    /// Columns: `id, status, started_at, ended_at, target, actions, options`.
    init(row s: StoreRow) {
        (id, status, startedAt, endedAt) = (s.int(0), s.text(1), s.int(2), s.optionalInt(3))
        (target, actions, options) = (try? JSONValue.parse(s.text(4)), try? JSONValue.parse(s.text(5)), try? JSONValue.parse(s.text(6)))
    }
}

/// One execution of an action on a violation.
struct MitigationExecutionRecord {
    var taskId: String
    var violationId: String
    var actionName: String
    var thingName: String
    var startedAt: Int64
    var endedAt: Int64?
    var status: String
    var errorCode: String?
    var message: String?

    init(row s: StoreRow) {
        (taskId, violationId, actionName, thingName, startedAt) = (s.text(0), s.text(1), s.text(2), s.text(3), s.int(4))
        (endedAt, status, errorCode, message) = (s.optionalInt(5), s.text(6), s.optionalText(7), s.optionalText(8))
    }
}

/// Mitigation actions, tasks and executions.
struct MitigationStore {
    let c: StoreConnection

    func actionExists(named name: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM mitigation_action WHERE name = ?", [name]) != nil
    }

    func insertAction(name: String, id: String, roleARN: String, type: String, params: String, at now: Int64) throws {
        try c.execute("INSERT INTO mitigation_action(name, action_id, role_arn, action_type, params, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [name, id, roleARN, type, params, now, now])
    }

    func action(named name: String) throws -> MitigationActionRecord? {
        try c.query("SELECT name, action_id, role_arn, action_type, params, created_at, modified_at FROM mitigation_action WHERE name = ?",
                    [name], MitigationActionRecord.init(row:)).first
    }

    /// Action names and creation times in name order (of one type when given).
    func actions(type: String?) throws -> [(name: String, created: Int64)] {
        var sql = "SELECT name, created_at FROM mitigation_action"
        var binds: [SQLiteValue] = []
        if let type { sql += " WHERE action_type = ?"; binds.append(.text(type)) }
        return try c.query(sql + " ORDER BY name", binds) { ($0.text(0), $0.int(1)) }
    }

    func deleteAction(named name: String) throws {
        try c.execute("DELETE FROM mitigation_action WHERE name = ?", [name])
    }

    func taskExists(_ taskId: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM mitigation_task WHERE task_id = ?", [taskId]) != nil
    }

    /// Inserts a task IN_PROGRESS; returns its row id.
    func insertTask(taskId: String, target: String, actions: String, options: String, at now: Int64) throws -> Int64 {
        try c.scalar("INSERT INTO mitigation_task(task_id, target, actions, options, status, started_at) VALUES (?, ?, ?, ?, 'IN_PROGRESS', ?) RETURNING id",
                     [taskId, target, actions, options, now])?.int ?? 0
    }

    func insertExecution(task: Int64, violationId: String, actionName: String, thingName: String, at now: Int64,
                         status: String, errorCode: String?, message: String?) throws {
        // Distributed by the thing's key.
        let (sql, binds) = c.keyedInsert(into: "mitigation_execution", keyColumn: "thing", name: thingName,
                                         columns: "task, violation_id, action_name, thing_name, started_at, ended_at, status, error_code, message",
                                         values: "?, ?, ?, ?, ?, ?, ?, ?, ?", [task, violationId, actionName, thingName, now, now, status, errorCode, message])
        try c.execute(sql, binds)
    }

    func finishTask(_ task: Int64, status: String, at now: Int64) throws {
        try c.execute("UPDATE mitigation_task SET status = ?, ended_at = ? WHERE id = ?", [status, now, task])
    }

    func task(_ taskId: String) throws -> MitigationTaskRecord? {
        try c.query("SELECT id, status, started_at, ended_at, target, actions, options FROM mitigation_task WHERE task_id = ?",
                    [taskId], MitigationTaskRecord.init(row:)).first
    }

    /// Executions per status of one task.
    func executionCounts(task: Int64) throws -> [(status: String, count: Int64)] {
        try c.query("SELECT status, count(*) FROM mitigation_execution WHERE task = ? GROUP BY status", [task]) { ($0.text(0), $0.int(1)) }
    }

    /// Executions in order, filtered by what is given.
    func executions(taskId: String?, violationId: String?, thingName: String?, start: Int64?, end: Int64?) throws -> [MitigationExecutionRecord] {
        var sql = """
            SELECT t.task_id, e.violation_id, e.action_name, e.thing_name, e.started_at, e.ended_at, e.status, e.error_code, e.message
            FROM mitigation_execution AS e JOIN mitigation_task AS t ON t.id = e.task WHERE true
            """
        var binds: [SQLiteValue] = []
        if let taskId { sql += " AND t.task_id = ?"; binds.append(.text(taskId)) }
        if let violationId { sql += " AND e.violation_id = ?"; binds.append(.text(violationId)) }
        if let thingName { sql += " AND e.thing_name = ?"; binds.append(.text(thingName)) }
        if let start { sql += " AND e.started_at >= ?"; binds.append(.integer(start)) }
        if let end { sql += " AND e.started_at <= ?"; binds.append(.integer(end)) }
        return try c.query(sql + " ORDER BY e.id", binds, MitigationExecutionRecord.init(row:))
    }

    /// Every security profile's name and behaviors, parsed.
    func profileBehaviors() throws -> [(name: String, behaviors: [JSONValue])] {
        try c.query("SELECT name, behaviors FROM security_profile") { ($0.text(0), (try? JSONValue.parse($0.text(1)))?.arrayValue ?? []) }
    }

    /// The active violations (alarms in alarm), by violation id.
    func activeViolations() throws -> [(violationId: String, clientId: String, profile: String, behavior: String, startTime: Int64)] {
        try c.query("SELECT a.violation_id, c.client_id, a.profile, a.behavior, a.start_time FROM alarm AS a JOIN client AS c ON c.id = a.client WHERE " + c.dialect.flag("a.in_alarm", true) + " ORDER BY a.violation_id") {
            ($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.int(4))
        }
    }
}
