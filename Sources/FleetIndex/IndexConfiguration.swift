// FleetIndex: the fleet index's configuration operations: which data is indexed.
import FleetSQLite

/// UpdateIndexingConfiguration, GetIndexingConfiguration, DescribeIndex, ListIndices.
public struct IndexConfiguration {
    public let db: FleetDatabase
    public init(_ db: FleetDatabase) { self.db = db }

    public func update(_ config: JSONValue) throws -> JSONValue {
        guard case .object(let members) = config else { throw FleetError.invalid(member: "thingIndexingConfiguration", "must be a JSON object") }
        let allowed: [String: [String]] = [
            "thingIndexingMode": ["OFF", "REGISTRY", "REGISTRY_AND_SHADOW"],
            "thingConnectivityIndexingMode": ["OFF", "STATUS"],
            "deviceDefenderIndexingMode": ["OFF", "VIOLATIONS"],
            "namedShadowIndexingMode": ["OFF", "ON"],
        ]
        guard config["thingIndexingMode"]?.stringValue != nil else { throw FleetError.invalid("thingIndexingMode is required") }
        for m in members {
            if let values = allowed[m.key] {
                guard let v = m.value.stringValue, values.contains(v) else {
                    throw FleetError.invalid("\(m.key) must be one of \(values.joined(separator: ", "))")
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
        let c = db.connection
        try c.transaction {
            try db.setMeta("indexing", config.compact)
            try Registry(db).reindexShadows()
            try db.touchAll()
        }
        return .object([])
    }

    public func get() throws -> JSONValue {
        jsonObject([("thingIndexingConfiguration", try db.indexingConfiguration()),
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
