// FleetIndex: iot-data's ListNamedShadowsForThing, beside the registry's shadow operations.

extension Registry {
    /// A thing's named shadows (not the classic one), in name order, `pageSize` at a time.
    public func listNamedShadowsForThing(thingName: String, pageSize: Int?, nextToken: String?, at now: Int64) throws -> JSONValue {
        let t = try requireThing(thingName)
        let limit = try Validation.maxResults(pageSize, default: 25, max: 100, member: "pageSize")
        let scope = "named-shadows|\(thingName)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let names = try shadows.namedShadowNames(thing: t.id, after: after, limit: limit + 1)
        let page = Array(names.prefix(limit))
        return jsonObject([
            ("results", .array(page.map(JSONValue.string))),
            ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
            ("timestamp", .int(now / 1000)),
        ])
    }
}
