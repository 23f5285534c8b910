// FleetIndex: the fleet index's configuration operations: which data is indexed.
import FleetSQLite

/// UpdateIndexingConfiguration, GetIndexingConfiguration, DescribeIndex, ListIndices.
public struct IndexConfiguration {
    public let db: FleetDatabase
    public init(_ db: FleetDatabase) { self.db = db }

    /// The indexing modes of a thing indexing configuration, with the values AWS gives
    /// those a request leaves out: OFF (only `thingIndexingMode` is required).
    static let modes: [(member: String, values: [String], omitted: String)] = [
        ("thingIndexingMode", ["OFF", "REGISTRY", "REGISTRY_AND_SHADOW"], "OFF"),
        ("thingConnectivityIndexingMode", ["OFF", "STATUS"], "OFF"),
        ("deviceDefenderIndexingMode", ["OFF", "VIOLATIONS"], "OFF"),
        ("namedShadowIndexingMode", ["OFF", "ON"], "OFF"),
    ]

    /// UpdateIndexingConfiguration: the configuration replaces the previous one; a mode it
    /// leaves out is OFF, as in AWS, and `get` shows it so.
    public func update(_ config: JSONValue) throws -> JSONValue {
        guard case .object(let members) = config else { throw FleetError.invalid(member: "thingIndexingConfiguration", "must be a JSON object") }
        guard config["thingIndexingMode"] != nil else { throw FleetError.invalid("thingIndexingMode is required") }
        for m in members {
            if let mode = Self.modes.first(where: { $0.member == m.key }) {
                guard let v = m.value.stringValue, mode.values.contains(v) else {
                    throw FleetError.invalid("\(m.key) must be one of \(mode.values.joined(separator: ", "))")
                }
            } else if !["managedFields", "customFields", "filter"].contains(m.key) {
                throw FleetError.invalid("unknown member '\(m.key)' in the thing indexing configuration")
            }
        }
        if let names = config["filter"]?["namedShadowNames"] {
            guard let list = names.arrayValue, list.allSatisfy({ $0.stringValue != nil }), list.count <= 10 else {
                throw FleetError.invalid("filter.namedShadowNames must be a list of at most 10 shadow names")
            }
        }
        // Connectivity, violations and named shadows are fields of the thing index: it must be on.
        if config["thingIndexingMode"]?.stringValue == "OFF" {
            for mode in Self.modes.dropFirst() {
                if let v = config[mode.member]?.stringValue, v != "OFF" {
                    throw FleetError.invalid("\(mode.member) \(v) needs thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW (it is OFF)")
                }
            }
        }
        let stored: [(String, JSONValue?)] = Self.modes.map { ($0.member, .string(config[$0.member]?.stringValue ?? $0.omitted)) }
            + ["managedFields", "customFields", "filter"].map { ($0, config[$0]) }
        try db.transaction {
            try db.setMeta("indexing", jsonObject(stored).compact)
            try Registry(db).reindexShadows()
            try db.touchAll()
        }
        return .object([])
    }

    /// GetIndexingConfiguration: every mode, OFF ones too (AWS returns them all), as the
    /// index uses them (a configuration stored before omitted modes meant OFF reads them as on).
    public func get() throws -> JSONValue {
        let config = try db.indexingConfiguration()
        let index = try db.catalog()
        let modes: [(String, JSONValue?)] = [
            ("thingIndexingMode", .string(!index.registry ? "OFF" : index.shadow ? "REGISTRY_AND_SHADOW" : "REGISTRY")),
            ("thingConnectivityIndexingMode", .string(index.connectivity ? "STATUS" : "OFF")),
            ("deviceDefenderIndexingMode", .string(index.deviceDefender ? "VIOLATIONS" : "OFF")),
            ("namedShadowIndexingMode", .string(index.namedShadows ? "ON" : "OFF")),
        ]
        let rest = ["managedFields", "customFields", "filter"].map { ($0, config[$0]) }
        return jsonObject([("thingIndexingConfiguration", jsonObject(modes + rest)),
                           ("thingGroupIndexingConfiguration", jsonObject([("thingGroupIndexingMode", .string("OFF"))]))])
    }

    public func describeIndex(name: String) throws -> JSONValue {
        guard name == "AWS_Things" else { throw FleetError.notFound("Index \(name) does not exist") }
        let c = try db.indexingConfiguration()
        var schema = (c["thingIndexingMode"]?.stringValue ?? "REGISTRY") == "REGISTRY_AND_SHADOW" ? "REGISTRY_AND_SHADOW" : "REGISTRY"
        if (c["thingConnectivityIndexingMode"]?.stringValue ?? "OFF") == "STATUS" { schema += "_AND_CONNECTIVITY_STATUS" }
        return jsonObject([("indexName", .string("AWS_Things")), ("indexStatus", .string("ACTIVE")), ("schema", .string(schema))])
    }

    public func listIndices() -> JSONValue {
        jsonObject([("indexNames", .array([.string("AWS_Things")]))])
    }
}
