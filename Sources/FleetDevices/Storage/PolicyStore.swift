// FleetDevices storage: IoT policies, their versions and their attachments to targets
// (certificate ARNs).
import FleetIndex
import FleetSQLite

/// A policy's row.
struct PolicyRecord {
    var id: Int64
    var name: String
    var defaultVersion: Int64
    var nextVersion: Int64
    var generation: String
    var created: Int64
    var modified: Int64

    /// Columns: `id, name, default_version, next_version, generation_id, created_at, modified_at`.
    init(row s: StoreRow) {
        (id, name, defaultVersion, nextVersion) = (s.int(0), s.text(1), s.int(2), s.int(3))
        (generation, created, modified) = (s.text(4), s.int(5), s.int(6))
    }
}

/// A thing attached to a principal, as the policy context reads it (attributes decoded once).
struct PrincipalThingRecord {
    var name: String
    var type: String
    var typeName: String?
    var attributes: [String: String]

    /// Columns: `t.name, p.type, y.name, t.attributes`.
    init(row s: StoreRow) {
        (name, type, typeName) = (s.text(0), s.text(1), s.optionalText(2))
        var attrs: [String: String] = [:]
        if case .object(let ms)? = try? JSONValue.parse(s.text(3)) {
            for m in ms { if let v = m.value.stringValue { attrs[m.key] = v } }
        }
        attributes = attrs
    }
}

/// Policies, versions and attachments.
struct PolicyStore {
    let c: StoreConnection

    func policy(named name: String) throws -> PolicyRecord? {
        try c.query("SELECT id, name, default_version, next_version, generation_id, created_at, modified_at FROM policy WHERE name = ?",
                    [name], PolicyRecord.init(row:)).first
    }

    /// Inserts a policy with its version 1 (the default).
    func insertPolicy(name: String, document: String, generation: String, at now: Int64) throws {
        let id = try c.scalar("INSERT INTO policy(name, default_version, next_version, generation_id, created_at, modified_at) VALUES (?, 1, 2, ?, ?, ?) RETURNING id",
                              [name, generation, now, now])?.int ?? 0
        try c.execute("INSERT INTO policy_version(policy, version, document, created_at) VALUES (?, 1, ?, ?)", [id, document, now])
    }

    func document(policy: Int64, version: Int64) throws -> (text: String, created: Int64)? {
        try c.query("SELECT document, created_at FROM policy_version WHERE policy = ? AND version = ?", [policy, version]) { ($0.text(0), $0.int(1)) }.first
    }

    /// Policy names after (or, descending, before) `after`, `limit` of them.
    func policyNames(after: String?, ascending: Bool, limit: Int) throws -> [String] {
        var sql = "SELECT name FROM policy"
        var binds: [SQLiteValue] = []
        if let after {
            sql += ascending ? " WHERE name > ?" : " WHERE name < ?"
            binds.append(.text(after))
        }
        sql += ascending ? " ORDER BY name LIMIT ?" : " ORDER BY name DESC LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds) { $0.text(0) }
    }

    func isAttachedAnywhere(policy: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM policy_target WHERE policy = ? LIMIT 1", [policy]) != nil
    }

    func hasVersions(policy: Int64, besides version: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM policy_version WHERE policy = ? AND version <> ? LIMIT 1", [policy, version]) != nil
    }

    func deletePolicy(_ policy: Int64) throws {
        try c.execute("DELETE FROM policy WHERE id = ?", [policy])
    }

    func versionCount(policy: Int64) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM policy_version WHERE policy = ?", [policy])?.int ?? 0
    }

    /// Adds version `version` and moves the policy's counters on.
    func insertVersion(policy: Int64, version: Int64, document: String, defaultVersion: Int64, generation: String, at now: Int64) throws {
        try c.execute("INSERT INTO policy_version(policy, version, document, created_at) VALUES (?, ?, ?, ?)", [policy, version, document, now])
        try c.execute("UPDATE policy SET next_version = ?, default_version = ?, modified_at = ?, generation_id = ? WHERE id = ?",
                      [version + 1, defaultVersion, now, generation, policy])
    }

    /// Versions and their creation times, newest first.
    func versions(policy: Int64) throws -> [(version: Int64, created: Int64)] {
        try c.query("SELECT version, created_at FROM policy_version WHERE policy = ? ORDER BY version DESC", [policy]) { ($0.int(0), $0.int(1)) }
    }

    func setDefaultVersion(policy: Int64, _ version: Int64, generation: String, at now: Int64) throws {
        try c.execute("UPDATE policy SET default_version = ?, modified_at = ?, generation_id = ? WHERE id = ?", [version, now, generation, policy])
    }

    func deleteVersion(policy: Int64, _ version: Int64) throws {
        try c.execute("DELETE FROM policy_version WHERE policy = ? AND version = ?", [policy, version])
    }

    func isAttached(policy: Int64, target: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM policy_target WHERE policy = ? AND target = ?", [policy, target]) != nil
    }

    /// How many policies are attached to a target.
    func policyCount(target: String) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM policy_target WHERE target = ?", [target])?.int ?? 0
    }

    func attach(policy: Int64, target: String, at now: Int64) throws {
        try c.execute("INSERT INTO policy_target(policy, target, attached_at) VALUES (?, ?, ?)", [policy, target, now])
    }

    func detach(policyNamed name: String, target: String) throws {
        try c.execute("DELETE FROM policy_target WHERE target = ? AND policy IN (SELECT id FROM policy WHERE name = ?)", [target, name])
    }

    /// Detaches every policy from a target.
    func detachAll(target: String) throws {
        try c.execute("DELETE FROM policy_target WHERE target = ?", [target])
    }

    /// Names of the policies attached to a target, after `after`, by name.
    func attachedPolicyNames(target: String, after: String, limit: Int) throws -> [String] {
        try c.query("""
            SELECT p.name FROM policy_target AS t JOIN policy AS p ON p.id = t.policy
            WHERE t.target = ? AND p.name > ? ORDER BY p.name LIMIT ?
            """, [target, after, Int64(limit)]) { $0.text(0) }
    }

    func targets(policy: Int64, after: String, limit: Int) throws -> [String] {
        try c.query("SELECT target FROM policy_target WHERE policy = ? AND target > ? ORDER BY target LIMIT ?",
                    [policy, after, Int64(limit)]) { $0.text(0) }
    }

    /// The default versions' documents of the policies attached to a target, by policy name.
    func effectiveDocuments(target: String) throws -> [(name: String, document: String)] {
        try c.query("""
            SELECT p.name, v.document FROM policy_target AS t JOIN policy AS p ON p.id = t.policy
            JOIN policy_version AS v ON v.policy = p.id AND v.version = p.default_version
            WHERE t.target = ? ORDER BY p.name
            """, [target]) { ($0.text(0), $0.text(1)) }
    }

    /// The things attached to a principal, with their types and attributes.
    func things(ofPrincipal principal: String) throws -> [PrincipalThingRecord] {
        try c.query("""
            SELECT t.name, p.type, y.name, t.attributes FROM thing_principal AS p JOIN thing AS t ON t.id = p.thing
            LEFT JOIN thing_type AS y ON y.id = t.type WHERE p.principal = ?
            """, [principal], PrincipalThingRecord.init(row:))
    }
}
