// FleetIndex: the fleet's database, SQLite (a path) or PostgreSQL (a `postgres://` URL):
// opened, migrated with the embedded Schema/ (Schema/postgres/) files, and the account
// settings (region, account) every ARN is built from.
import FleetPostgres
import FleetQuery
import FleetSQLite
import FleetStorage

/// One fleetdex database. Every service (Registry, Presence, Defender, ...) works through it.
public final class FleetDatabase {
    public let connection: StoreConnection
    public let region: String
    public let account: String

    /// The migrations embedded from `Schema/` at build time.
    public static func migrations() throws -> Migrator {
        try Migrator(EmbeddedFiles.migrations.compactMap { Migration(fileName: $0.0, sql: $0.1) })
    }

    /// The saved queries shipped in `Queries/`, embedded at build time.
    public static var shippedQueries: [(String, String)] { EmbeddedFiles.queries }

    /// Whether `path` names a PostgreSQL database (a `postgres://` or `postgresql://` URL)
    /// rather than a SQLite file.
    public static func namesPostgres(_ path: String) -> Bool { PostgresConnection.isURL(path) }

    /// Opens (creating and migrating) the database at `path`: a SQLite file, or a PostgreSQL
    /// database named by a `postgres://` / `postgresql://` URL (libpq's rules: `PG*`
    /// variables, `~/.pgpass`).
    public init(path: String, region: String? = nil, account: String? = nil) throws {
        if PostgresConnection.isURL(path) {
            connection = try Self.openPostgres(path)
        } else {
            do {
                let c = try Connection(path: path)
                try Self.migrations().migrate(c)
                connection = StoreConnection(sqlite: c)
            } catch let e as SQLiteError where e.code == 26 {
                throw FleetError(.invalidRequest, "\(path) is not a fleetdex database (not SQLite)")
            } catch let e as MigrationError {
                throw FleetError(.invalidRequest, "\(path): \(e)")
            }
        }
        let settings = MetaStore(c: connection)
        let (storedRegion, storedAccount) = try settings.account()
        self.region = storedRegion ?? region ?? "us-east-1"
        self.account = storedAccount ?? account ?? "123456789012"
        if storedRegion == nil {
            try settings.setAccount(region: self.region, account: self.account)
        }
    }

    /// fleetdex's session on PostgreSQL: no parallel workers for a query, unless the server,
    /// database, role or connection (`PGOPTIONS`, `options=-c ...`) sets another number than
    /// PostgreSQL's default of 2. The statements are short and index-driven; a page of a search
    /// planned with two workers took 65 ms to start them where the same plan without them took
    /// 4 ms. (`pg_settings` would tell the setting's source, but reading it in a new
    /// connection took 2-8 ms, most of a one-shot command's time on the server.)
    static let postgresSession = """
        SELECT set_config('max_parallel_workers_per_gather', '0', false)
        WHERE current_setting('max_parallel_workers_per_gather') = '2'
        """

    /// Connects to and migrates a PostgreSQL database (its errors as FleetErrors).
    static func openPostgres(_ url: String) throws -> StoreConnection {
        let pg: PostgresConnection
        do {
            pg = try PostgresConnection(url: url, session: Self.postgresSession)
            try PostgresMigrator().migrate(pg)
        } catch {
            throw FleetError(.internalFailure, error.message)
        }
        return StoreConnection(postgres: pg)
    }

    // MARK: stores (the storage seam: every statement an operation runs goes through one)

    /// Settings and engine bookkeeping (`meta`).
    var metaStore: MetaStore { MetaStore(c: connection) }
    /// Things, types, static groups and membership.
    var things: ThingStore { ThingStore(c: connection) }
    /// Classic and named shadow documents.
    var shadows: ShadowStore { ShadowStore(c: connection) }
    /// The field index (thing_text, thing_number, thing_flag).
    var fields: FieldStore { FieldStore(c: connection) }
    /// The executor of compiled queries (pages, documents, states, the planner's counts).
    var search: SearchStore { SearchStore(c: connection) }
    /// The aggregations' queries.
    var aggregations: AggregationStore { AggregationStore(c: connection) }
    /// Security profiles and their targets.
    var profiles: ProfileStore { ProfileStore(c: connection) }
    /// Alarm slots, evaluated ticks and the cycle's client rows.
    var alarms: AlarmStore { AlarmStore(c: connection) }
    /// The stored metric series (runs).
    var metricRuns: MetricRuns { MetricRuns(c: connection) }
    /// Mitigation actions, tasks and executions.
    var mitigation: MitigationStore { MitigationStore(c: connection) }
    /// Clients, lifecycle history and connectivity.
    var presence: PresenceStore { PresenceStore(c: connection) }
    /// Topics, subscriptions, queues, messages and webhook deliveries.
    var messaging: MessagingStore { MessagingStore(c: connection) }
    /// Dynamic groups, their log and the change log they refresh from.
    var dynamicGroupStore: DynamicGroupStore { DynamicGroupStore(c: connection) }

    /// Runs `body` in one write transaction (a savepoint inside another), committing on
    /// return and rolling back on a thrown error.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction(body)
    }

    /// An ingest batch's write transaction, opened and closed by hand (it must fail rather
    /// than nest inside another transaction; `StoreConnection.beginIngest`).
    func beginIngest() throws { try connection.beginIngest() }
    func commit() throws { try connection.execute(script: "COMMIT") }
    func rollback() { try? connection.execute(script: "ROLLBACK") }

    // MARK: fleet-wide counts (the demo's checks)

    /// How many things are disconnected.
    public func disconnectedThingCount() throws -> Int64 { try things.disconnectedCount() }

    /// The member ids of a group by name (none when it does not exist).
    public func memberIDs(ofGroupNamed name: String) throws -> [Int64] { try things.memberIDs(ofGroupNamed: name) }

    /// How many SQS messages are stored, in every queue.
    public func storedMessageCount() throws -> Int64 { try messaging.messageCount() }

    // MARK: settings

    public func meta(_ key: String) throws -> String? {
        try metaStore.value(key)
    }

    public func setMeta(_ key: String, _ value: String?) throws {
        try metaStore.set(key, value)
    }

    // MARK: change tracking for dynamic groups

    private var hasDynamicGroups: Bool?
    /// `PRAGMA data_version` when "no dynamic group" was last read: another connection's
    /// commit (another process, another handle of a server) changes it.
    private var checkedAtVersion: Int64?
    /// The write transaction (PostgreSQL) in which "no dynamic group" was last read.
    private var checkedInTransaction: Int?

    /// Whether changes need tracking: only while a dynamic group exists (a new group is
    /// built over the whole fleet anyway). "Yes" is kept (tracking with no group left only
    /// writes rows the next refresh drops); "no" is read again once another connection has
    /// committed, so a long-running process sees a group another process created.
    /// On PostgreSQL (no data version), "no" is kept for the rest of the write transaction it
    /// was read in: no dynamic group is created while this one holds the write lock (ingest
    /// batches share it, and create none).
    public var tracksChanges: Bool {
        if hasDynamicGroups == true { return true }
        let version = metaStore.dataVersion()
        if hasDynamicGroups == false, version != nil, version == checkedAtVersion { return false }
        let transaction = connection.writeTransaction
        if hasDynamicGroups == false, version == nil, transaction != nil, transaction == checkedInTransaction { return false }
        let known = (try? dynamicGroupStore.anyDynamicGroup()) == true
        hasDynamicGroups = known
        checkedAtVersion = version
        checkedInTransaction = transaction
        return known
    }

    /// Called when a dynamic group is created.
    func dynamicGroupCreated() { hasDynamicGroups = true }

    /// Notes that a thing's searchable state changed (dynamic groups re-check it).
    public func touch(_ thing: Int64) throws {
        guard tracksChanges else { return }
        try dynamicGroupStore.touch(thing)
    }

    /// `touch` of each of `things` (a batch's, written together).
    func touch(_ things: [Int64]) throws {
        guard !things.isEmpty, tracksChanges else { return }
        try dynamicGroupStore.touch(things)
    }

    /// Notes that every member of a static group changed (the group is about to go).
    func touch(membersOf group: Int64) throws {
        guard tracksChanges else { return }
        try dynamicGroupStore.touchMembers(of: group)
    }

    /// Notes that the things an alarm of (client, profile, behavior) belongs to changed.
    func touch(alarmOf client: Int64, profile: String, behavior: String) throws {
        guard tracksChanges else { return }
        try dynamicGroupStore.touchThings(ofAlarm: client, profile: profile, behavior: behavior)
    }

    /// Keeps `thing_group.member_count` in step (see `ThingStore.countMembers`).
    func countMembers(_ delta: Int, group: Int64) throws {
        try things.countMembers(delta, group: group)
    }

    /// Takes a thing out of a group, counted; false when it was not in it.
    @discardableResult
    func removeMember(group: Int64, thing: Int64) throws -> Bool {
        try things.removeMember(group: group, thing: thing)
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
        return uuid(g.next(), g.next())
    }

    /// The version-4 UUID made of the random bits `a` and `b` (the same text for the same bits).
    public static func uuid(_ a: UInt64, _ b: UInt64) -> String {
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
    /// Read once while the database is unchanged (every search reads it twice).
    public func indexingConfiguration() throws -> JSONValue {
        try connection.kept("indexingConfiguration") { try readIndexingConfiguration() }
    }

    private func readIndexingConfiguration() throws -> JSONValue {
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
        try Self.indexedShadowNames(in: indexingConfiguration())
    }

    /// The named shadows of `c` (an indexing configuration) whose values are indexed: nil means all.
    static func indexedShadowNames(in c: JSONValue) -> Set<String>? {
        guard let names = c["filter"]?["namedShadowNames"]?.arrayValue else { return nil }
        return Set(names.compactMap(\.stringValue))
    }
}
