// FleetIndex: the fleet's SQLite database: opened, migrated with the embedded Schema/
// files, and the account settings (region, account) every ARN is built from.
import FleetQuery
import FleetSQLite

/// One fleetdex database. Every service (Registry, Presence, Defender, ...) works through it.
public final class FleetDatabase {
    public let connection: Connection
    public let region: String
    public let account: String

    /// The migrations embedded from `Schema/` at build time.
    public static func migrations() throws -> Migrator {
        try Migrator(EmbeddedFiles.migrations.compactMap { Migration(fileName: $0.0, sql: $0.1) })
    }

    /// The saved queries shipped in `Queries/`, embedded at build time.
    public static var shippedQueries: [(String, String)] { EmbeddedFiles.queries }

    /// Opens (creating and migrating) the database at `path`.
    public init(path: String, region: String? = nil, account: String? = nil) throws {
        do {
            connection = try Connection(path: path)
            try Self.migrations().migrate(connection)
        } catch let e as SQLiteError where e.code == 26 {
            throw FleetError(.invalidRequest, "\(path) is not a fleetdex database (not SQLite)")
        } catch let e as MigrationError {
            throw FleetError(.invalidRequest, "\(path): \(e)")
        }
        let storedRegion = try connection.scalar("SELECT value FROM meta WHERE key = 'region'")?.string
        let storedAccount = try connection.scalar("SELECT value FROM meta WHERE key = 'account'")?.string
        self.region = storedRegion ?? region ?? "us-east-1"
        self.account = storedAccount ?? account ?? "123456789012"
        if storedRegion == nil {
            try connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('region', ?), ('account', ?)",
                                   [self.region, self.account])
        }
    }

    // MARK: settings

    public func meta(_ key: String) throws -> String? {
        try connection.scalar("SELECT value FROM meta WHERE key = ?", [key])?.string
    }

    public func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try connection.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
        } else {
            try connection.execute("DELETE FROM meta WHERE key = ?", [key])
        }
    }

    // MARK: change tracking for dynamic groups

    private var hasDynamicGroups: Bool?
    /// `PRAGMA data_version` when "no dynamic group" was last read: another connection's
    /// commit (another process, another handle of a server) changes it.
    private var checkedAtVersion: Int64?

    /// Whether changes need tracking: only while a dynamic group exists (a new group is
    /// built over the whole fleet anyway). "Yes" is kept (tracking with no group left only
    /// writes rows the next refresh drops); "no" is read again once another connection has
    /// committed, so a long-running process sees a group another process created.
    public var tracksChanges: Bool {
        if hasDynamicGroups == true { return true }
        let version = try? connection.scalar("PRAGMA data_version")?.int
        if hasDynamicGroups == false, version != nil, version == checkedAtVersion { return false }
        let known = (try? connection.scalar("SELECT 1 FROM thing_group WHERE query IS NOT NULL LIMIT 1")) != nil
        hasDynamicGroups = known
        checkedAtVersion = version
        return known
    }

    /// Called when a dynamic group is created.
    func dynamicGroupCreated() { hasDynamicGroups = true }

    /// Notes that a thing's searchable state changed (dynamic groups re-check it).
    public func touch(_ thing: Int64) throws {
        guard tracksChanges else { return }
        try connection.execute("INSERT OR IGNORE INTO thing_touch(thing) VALUES (?)", [thing])
    }

    /// Notes that the things a query selects changed (`select` yields thing ids).
    func touch(selectedBy select: String, _ binds: [any SQLiteBindable]) throws {
        guard tracksChanges else { return }
        try connection.execute("INSERT OR IGNORE INTO thing_touch(thing) " + select, binds)
    }

    /// Keeps `thing_group.member_count` (the planner's estimate of a group's size) in step with
    /// thing_group_member: every writer of memberships reports its net change here, once per
    /// group and operation (a trigger per row cost 5 µs a member in bulk refreshes).
    func countMembers(_ delta: Int, group: Int64) throws {
        guard delta != 0 else { return }
        try connection.execute("UPDATE thing_group SET member_count = member_count + ? WHERE id = ?", [Int64(delta), group])
    }

    /// Puts a thing in a group, counted (bulk writers insert themselves and count once).
    func addMember(group: Int64, thing: Int64, at now: Int64) throws {
        try connection.execute("INSERT INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?)", [group, thing, now])
        try countMembers(1, group: group)
    }

    /// Takes a thing out of a group, counted; false when it was not in it.
    @discardableResult
    func removeMember(group: Int64, thing: Int64) throws -> Bool {
        try connection.execute("DELETE FROM thing_group_member WHERE group_id = ? AND thing = ?", [group, thing])
        let removed = connection.changes > 0
        if removed { try countMembers(-1, group: group) }
        return removed
    }

    /// Uncounts the memberships of a thing about to be deleted (its rows go by cascade).
    func uncountMemberships(of thing: Int64) throws {
        try connection.execute("UPDATE thing_group SET member_count = member_count - 1 WHERE id IN (SELECT group_id FROM thing_group_member WHERE thing = ?)", [thing])
    }

    /// Notes a change that can move any thing in or out of a group (targets, indexing modes):
    /// the next refresh runs every group's query over the whole fleet.
    public func touchAll() throws {
        try setMeta("groups_full_refresh", "1")
    }

    // MARK: ARNs and ids

    public func iotARN(_ resource: String) -> String { "arn:aws:iot:\(region):\(account):\(resource)" }
    public func thingARN(_ name: String) -> String { iotARN("thing/\(name)") }
    public func groupARN(_ name: String) -> String { iotARN("thinggroup/\(name)") }
    public func typeARN(_ name: String) -> String { iotARN("thingtype/\(name)") }
    public func profileARN(_ name: String) -> String { iotARN("securityprofile/\(name)") }
    public func snsARN(_ name: String) -> String { "arn:aws:sns:\(region):\(account):\(name)" }
    public func sqsARN(_ name: String) -> String { "arn:aws:sqs:\(region):\(account):\(name)" }
    public func sqsURL(_ name: String) -> String { "https://sqs.\(region).amazonaws.com/\(account)/\(name)" }

    /// A random UUID (version 4) in lower case.
    public static func uuid() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next(), b = g.next()
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return hex(bytes, dashes: true)
    }

    /// 32 random lowercase hex digits (violation ids).
    public static func hex32() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next(), b = g.next()
        return hex((0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }, dashes: false)
    }

    static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8], dashes: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if dashes && (i == 4 || i == 6 || i == 8 || i == 10) { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: indexing configuration

    /// The indexing configuration (AWS's ThingIndexingConfiguration shape).
    public func indexingConfiguration() throws -> JSONValue {
        if let text = try meta("indexing"), let v = try? JSONValue.parse(text) { return v }
        return jsonObject([
            ("thingIndexingMode", .string("REGISTRY_AND_SHADOW")),
            ("thingConnectivityIndexingMode", .string("STATUS")),
            ("deviceDefenderIndexingMode", .string("VIOLATIONS")),
            ("namedShadowIndexingMode", .string("ON")),
        ])
    }

    /// The searchable fields under the current indexing configuration.
    public func catalog() throws -> FieldCatalog {
        let c = try indexingConfiguration()
        let mode = c["thingIndexingMode"]?.stringValue ?? "REGISTRY_AND_SHADOW"
        return FieldCatalog(registry: mode != "OFF",
                            shadow: mode == "REGISTRY_AND_SHADOW",
                            connectivity: (c["thingConnectivityIndexingMode"]?.stringValue ?? "STATUS") == "STATUS",
                            deviceDefender: (c["deviceDefenderIndexingMode"]?.stringValue ?? "VIOLATIONS") == "VIOLATIONS",
                            namedShadows: (c["namedShadowIndexingMode"]?.stringValue ?? "ON") == "ON")
    }

    /// Named shadows whose values are indexed: nil means all.
    public func indexedShadowNames() throws -> Set<String>? {
        let c = try indexingConfiguration()
        guard let names = c["filter"]?["namedShadowNames"]?.arrayValue else { return nil }
        return Set(names.compactMap(\.stringValue))
    }
}
