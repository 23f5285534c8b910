// FleetIndex storage: security profiles (behaviors, alert targets, retained metrics) and
// their targets (`profile_target`: every thing, registered or unregistered things, a group).
import FleetSQLite
import FleetStorage

extension Defender.Profile {
    /// Columns: `id, name, behaviors, alert_targets, additional_metrics` (the JSON parsed once).
    init(row s: StoreRow) {
        let behaviors = (try? JSONValue.parse(s.text(2))).map { Behavior.parseList($0).behaviors } ?? []
        let targets = s.optionalText(3).flatMap { try? JSONValue.parse($0) }
        let retained = s.optionalText(4).flatMap { try? JSONValue.parse($0) }?.arrayValue?.compactMap { $0["metric"]?.stringValue } ?? []
        self.init(id: s.int(0), name: s.text(1), behaviors: behaviors,
                  alertTopic: targets?["SNS"]?["alertTargetArn"]?.stringValue, retained: Set(retained))
    }
}

/// A security profile as DescribeSecurityProfile shows it (stored JSON parsed once).
struct ProfileDescriptionRecord {
    var name: String
    var description: String?
    var behaviors: JSONValue
    var alertTargets: JSONValue?
    var additionalMetrics: JSONValue?
    var version: Int64
    var created: Int64
    var modified: Int64

    init(row s: StoreRow) {
        (name, description) = (s.text(0), s.optionalText(1))
        behaviors = (try? JSONValue.parse(s.text(2))) ?? .array([])
        alertTargets = s.optionalText(3).flatMap { try? JSONValue.parse($0) }
        additionalMetrics = s.optionalText(4).flatMap { try? JSONValue.parse($0) }
        (version, created, modified) = (s.int(5), s.int(6), s.int(7))
    }
}

/// Security profiles and their targets.
struct ProfileStore {
    let c: StoreConnection
    private static let insertTarget = "INSERT INTO profile_target(profile, arn, kind, group_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"

    /// Every profile with at least one target, by name.
    func attachedProfiles() throws -> [Defender.Profile] {
        try c.query("""
            SELECT p.id, p.name, p.behaviors, p.alert_targets, p.additional_metrics FROM security_profile AS p
            WHERE EXISTS (SELECT 1 FROM profile_target WHERE profile = p.id) ORDER BY p.name
            """, [], Defender.Profile.init(row:))
    }

    func profile(named name: String) throws -> Defender.Profile? {
        try c.query("SELECT id, name, behaviors, alert_targets, additional_metrics FROM security_profile WHERE name = ?", [name], Defender.Profile.init(row:)).first
    }

    func topicExists(arn: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM sns_topic WHERE arn = ?", [arn]) != nil
    }

    func insert(name: String, description: String?, behaviors: String, alertTargets: String?, additionalMetrics: String?, at now: Int64) throws {
        try c.execute("INSERT INTO security_profile(name, description, behaviors, alert_targets, additional_metrics, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [name, description, behaviors, alertTargets, additionalMetrics, now, now])
    }

    func description(named name: String) throws -> ProfileDescriptionRecord? {
        try c.query("SELECT name, description, behaviors, alert_targets, additional_metrics, version, created_at, modified_at FROM security_profile WHERE name = ?",
                    [name], ProfileDescriptionRecord.init(row:)).first
    }

    func version(of profile: Int64) throws -> Int64? {
        try c.scalar("SELECT version FROM security_profile WHERE id = ?", [profile])?.int
    }

    func setDescription(_ profile: Int64, _ description: String) throws {
        try c.execute("UPDATE security_profile SET description = ? WHERE id = ?", [description, profile])
    }

    func setBehaviors(_ profile: Int64, _ behaviors: String) throws {
        try c.execute("UPDATE security_profile SET behaviors = ? WHERE id = ?", [behaviors, profile])
    }

    func setAlertTargets(_ profile: Int64, _ targets: String?) throws {
        try c.execute("UPDATE security_profile SET alert_targets = ? WHERE id = ?", [targets, profile])
    }

    func setAdditionalMetrics(_ profile: Int64, _ metrics: String?) throws {
        try c.execute("UPDATE security_profile SET additional_metrics = ? WHERE id = ?", [metrics, profile])
    }

    func bumpVersion(_ profile: Int64, at now: Int64) throws {
        try c.execute("UPDATE security_profile SET version = version + 1, modified_at = ? WHERE id = ?", [now, profile])
    }

    func delete(_ profile: Int64) throws {
        try c.execute("DELETE FROM security_profile WHERE id = ?", [profile])
    }

    func names(after: String, limit: Int) throws -> [String] {
        try c.query("SELECT name FROM security_profile WHERE name > ? ORDER BY name LIMIT ?", [after, limit]) { $0.text(0) }
    }

    /// Every profile's behaviors and alert targets as stored, by name.
    func behaviorsAndTargets() throws -> [String: (behaviors: String, alertTargets: String?)] {
        Dictionary(try c.query("SELECT name, behaviors, alert_targets FROM security_profile") { ($0.text(0), ($0.text(1), $0.optionalText(2))) },
                   uniquingKeysWith: { a, _ in a })
    }

    // MARK: targets

    func profileCount(target arn: String) throws -> Int64 {
        try c.scalar("SELECT count(*) FROM profile_target WHERE arn = ?", [arn])?.int ?? 0
    }

    func attach(_ profile: Int64, arn: String, kind: String, group: Int64?) throws {
        try c.execute(Self.insertTarget, [profile, arn, kind, group])
    }

    func isAttached(_ profile: Int64, arn: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM profile_target WHERE profile = ? AND arn = ?", [profile, arn]) != nil
    }

    func detach(_ profile: Int64, arn: String) throws {
        try c.execute("DELETE FROM profile_target WHERE profile = ? AND arn = ?", [profile, arn])
    }

    func hasTargets(_ profile: Int64) throws -> Bool {
        try c.scalar("SELECT 1 FROM profile_target WHERE profile = ?", [profile]) != nil
    }

    func targetARNs(of profile: Int64) throws -> [String] {
        try c.query("SELECT arn FROM profile_target WHERE profile = ? ORDER BY arn", [profile]) { $0.text(0) }
    }

    /// The names of a group and its ancestors.
    func groupAndAncestorNames(_ group: Int64) throws -> [String] {
        try c.query("SELECT g.name FROM thing_group_ancestor AS a JOIN thing_group AS g ON g.id = a.ancestor WHERE a.group_id = ?", [group]) { $0.text(0) }
    }

    func profileNames(target arn: String) throws -> [String] {
        try c.query("SELECT p.name FROM profile_target AS t JOIN security_profile AS p ON p.id = t.profile WHERE t.arn = ? ORDER BY p.name", [arn]) { $0.text(0) }
    }

    /// The targets of a profile: (kind, group id).
    func targets(of profile: Int64) throws -> [(kind: String, group: Int64?)] {
        try c.query("SELECT kind, group_id FROM profile_target WHERE profile = ?", [profile]) { ($0.text(0), $0.optionalInt(1)) }
    }
}
