// FleetIndex: the thing registry: things, thing types, the static group hierarchy and its
// membership, classic and named shadows. Each public method is one AWS operation: a
// request in, the response shaped as the botocore `iot` model out.
import FleetQuery
import FleetSQLite

/// The registry operations.
public struct Registry {
    public let db: FleetDatabase
    var things: ThingStore { db.things }
    var shadows: ShadowStore { db.shadows }

    public init(_ db: FleetDatabase) { self.db = db }

    // MARK: lookups

    typealias ThingRow = ThingRecord

    func thing(_ name: String) throws -> ThingRow? {
        try things.thing(named: name)
    }

    func requireThing(_ name: String) throws -> ThingRow {
        try Validation.name(name, "thingName")
        guard let t = try thing(name) else { throw FleetError.notFound("Thing \(name) cannot be found.") }
        return t
    }

    /// The stored attributes (`encodeAttributes`' flat object of strings). Text without
    /// escapes, the usual case, is split directly; anything else goes through the JSON parser.
    static func decodeAttributes(_ text: String) -> [(String, String)] {
        var text = text
        if let fast = text.withUTF8({ splitFlatStrings($0) }) { return fast }
        guard let v = try? JSONValue.parse(text), case .object(let ms) = v else { return [] }
        return ms.compactMap { m in m.value.stringValue.map { (m.key, $0) } }
    }

    /// `{"k":"v",...}` exactly as `compact` writes it, with no backslash; nil otherwise.
    static func splitFlatStrings(_ b: UnsafeBufferPointer<UInt8>) -> [(String, String)]? {
        let quote = UInt8(ascii: "\""), n = b.count
        guard n >= 2, b[0] == UInt8(ascii: "{"), b[n - 1] == UInt8(ascii: "}") else { return nil }
        if n == 2 { return [] }
        var out: [(String, String)] = []
        var i = 1
        func string() -> String? {
            guard i < n, b[i] == quote else { return nil }
            let start = i + 1
            var j = start
            while j < n, b[j] != quote {
                if b[j] == UInt8(ascii: "\\") || b[j] < 0x20 { return nil }
                j += 1
            }
            guard j < n else { return nil }
            i = j + 1
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<j]), as: UTF8.self)
        }
        while true {
            guard let k = string(), i < n, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = string(), i < n else { return nil }
            out.append((k, v))
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            return b[i] == UInt8(ascii: "}") && i == n - 1 ? out : nil
        }
    }

    static func encodeAttributes(_ attrs: [(String, String)]) -> String {
        JSONValue.object(attrs.map { JSONMember($0.0, .string($0.1)) }).compact
    }

    static func attributesJSON(_ attrs: [(String, String)]) -> JSONValue {
        .object(attrs.map { JSONMember($0.0, .string($0.1)) })
    }

    func typeID(_ name: String) throws -> Int64? {
        try things.typeID(named: name)
    }

    func groupID(_ name: String) throws -> Int64? {
        try things.groupID(named: name)
    }

    /// Parses `{"attributes":{...},"merge":bool}`; values must be strings (numbers are taken as written).
    public static func attributePayload(_ v: JSONValue?) throws(FleetError) -> (attributes: [(String, String)], merge: Bool)? {
        guard let v else { return nil }
        guard case .object = v else { throw .invalid(member: "attributePayload", "must be a JSON object") }
        let merge = v["merge"]?.boolValue ?? false
        guard let a = v["attributes"] else { return ([], merge) }
        return (try attributes(a), merge)
    }

    public static func attributes(_ a: JSONValue) throws(FleetError) -> [(String, String)] {
        guard case .object(let ms) = a else { throw .invalid("attributes must be a JSON object of strings") }
        var out: [(String, String)] = []
        for m in ms {
            let value: String
            switch m.value {
            case .string(let s): value = s
            case .number(let n): value = n
            case .bool(let b): value = b ? "true" : "false"
            default: throw .invalid("the value of attribute '\(m.key)' must be a string, not \(m.value.typeName)")
            }
            try Validation.attribute(m.key, value)
            if let i = out.firstIndex(where: { $0.0 == m.key }) { out[i].1 = value } else { out.append((m.key, value)) }
        }
        guard out.count <= 50 else { throw .invalid("a thing can have at most 50 attributes, got \(out.count)") }
        return out
    }

    // MARK: field index maintenance

    var fields: FieldStore { db.fields }

    /// Re-indexes a thing's attributes from `old` to `new`.
    func indexAttributes(_ thing: Int64, old: [(String, String)], new: [(String, String)]) throws {
        try fields.replace(thing, old: FieldIndexer.attributes(old), new: FieldIndexer.attributes(new))
        try db.touch(thing)
    }

    /// Every indexed value of a thing, from its documents (attributes and shadows).
    func indexedValues(_ thing: Int64) throws -> [FieldValue] {
        var out: [FieldValue] = []
        if let attrs = try things.attributes(of: thing) {
            out += FieldIndexer.attributes(attrs)
        }
        let allowed = try db.indexedShadowNames()
        for shadow in try shadows.shadows(of: thing) {
            out += shadowFields(name: shadow.name, document: shadow.document, allowed: allowed)
        }
        return out
    }

    /// The indexed values of one shadow document (none for a named shadow the filter leaves out).
    func shadowFields(name: String, document: JSONValue?, allowed: Set<String>?) -> [FieldValue] {
        guard let document else { return [] }
        if !name.isEmpty, let allowed, !allowed.contains(name) { return [] }
        let state = ShadowState(reported: document["state"]?["reported"], desired: document["state"]?["desired"])
        return FieldIndexer.shadow(state, prefix: name.isEmpty ? "shadow" : "shadow.name." + name)
    }

    // MARK: things

    /// CreateThing. Creating an existing thing with the same type and attributes returns it
    /// unchanged (as AWS does); with different ones it is a ResourceAlreadyExistsException.
    public func createThing(name: String, typeName: String?, attributes: [(String, String)]?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingName")
        if let typeName { try Validation.name(typeName, "thingTypeName") }
        return try db.transaction {
            if let existing = try thing(name) {
                let same = existing.typeName == typeName
                    && Set(existing.attributes.map { "\($0.0)=\($0.1)" }) == Set((attributes ?? []).map { "\($0.0)=\($0.1)" })
                guard same else { throw FleetError.alreadyExists("Thing \(name) already exists with different tags or attributes") }
                return jsonObject([("thingName", .string(name)), ("thingArn", .string(db.thingARN(name))), ("thingId", .string(existing.thingId))])
            }
            var type: Int64? = nil
            if let typeName {
                guard let t = try things.activeTypeID(named: typeName) else {
                    if try typeID(typeName) != nil { throw FleetError.invalid("Thing type \(typeName) is deprecated") }
                    throw FleetError.notFound("Thing type \(typeName) cannot be found.")
                }
                type = t
            }
            let thingId = FleetDatabase.uuid()
            let attrs = attributes ?? []
            let id = try things.insertThing(name: name, thingId: thingId, type: type, attributes: attrs, at: now)
            try indexAttributes(id, old: [], new: attrs)
            try linkClient(thing: id, name: name)
            return jsonObject([("thingName", .string(name)), ("thingArn", .string(db.thingARN(name))), ("thingId", .string(thingId))])
        }
    }

    /// A client id seen before the thing existed (an unregistered client) becomes the thing's.
    func linkClient(thing: Int64, name: String) throws {
        try things.linkClient(thing: thing, clientID: name)
        try db.touch(thing)
    }

    /// DescribeThing.
    public func describeThing(name: String) throws -> JSONValue {
        let t = try requireThing(name)
        return jsonObject([
            ("defaultClientId", .string(t.name)),
            ("thingName", .string(t.name)),
            ("thingId", .string(t.thingId)),
            ("thingArn", .string(db.thingARN(t.name))),
            ("thingTypeName", t.typeName.map(JSONValue.string)),
            ("attributes", Registry.attributesJSON(t.attributes)),
            ("version", .int(t.version)),
        ])
    }

    /// UpdateThing: a new type (or none), attributes replaced or merged (`""` removes one).
    public func updateThing(name: String, typeName: String?, removeThingType: Bool,
                            attributePayload: (attributes: [(String, String)], merge: Bool)?,
                            expectedVersion: Int64?) throws -> JSONValue {
        if typeName != nil && removeThingType { throw FleetError.invalid(member: "removeThingType", "cannot be true when thingTypeName is given") }
        return try db.transaction {
            let t = try requireThing(name)
            if let expectedVersion, expectedVersion != t.version {
                throw FleetError.versionConflict("The version for thing \(name) does not match the expected version (expected \(expectedVersion), current \(t.version)).")
            }
            var typeValue: Int64? = try things.typeOf(thing: t.id)
            if let typeName {
                try Validation.name(typeName, "thingTypeName")
                guard let id = try typeID(typeName) else { throw FleetError.notFound("Thing type \(typeName) cannot be found.") }
                typeValue = id
            } else if removeThingType {
                typeValue = nil
            }
            var attrs = t.attributes
            if let p = attributePayload {
                if p.merge {
                    for (k, v) in p.attributes {
                        attrs.removeAll { $0.0 == k }
                        if !v.isEmpty { attrs.append((k, v)) }
                    }
                } else {
                    attrs = p.attributes.filter { !$0.1.isEmpty }
                }
            }
            try things.updateThing(t.id, type: typeValue, attributes: attrs)
            try indexAttributes(t.id, old: t.attributes, new: attrs)
            return .object([])
        }
    }

    /// DeleteThing: the thing, its shadows, memberships and index rows. Active violations
    /// are invalidated by the next evaluation (the thing left every target).
    public func deleteThing(name: String, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingName")
        return try db.transaction {
            guard let t = try thing(name) else { return .object([]) }  // AWS: deleting a missing thing succeeds
            if let expectedVersion, expectedVersion != t.version {
                throw FleetError.versionConflict("The version for thing \(name) does not match the expected version (expected \(expectedVersion), current \(t.version)).")
            }
            // AWS refuses to delete a thing with principals attached (FleetDevices' table).
            if try things.hasPrincipal(thing: t.id) {
                throw FleetError.invalid("Cannot delete. Thing \(name) is still attached to one or more principals")
            }
            try Defender(db).invalidate(thing: t.id, reason: "the thing was deleted", at: now)
            try fields.delete(t.id, try indexedValues(t.id))
            try things.uncountMemberships(of: t.id)
            try things.deleteThing(t.id)
            return .object([])
        }
    }

    /// ListThings, optionally filtered by one attribute and by type, in name order.
    public func listThings(attributeName: String?, attributeValue: String?, typeName: String?,
                           maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let scope = "list-things|\(attributeName ?? "")|\(attributeValue ?? "")|\(typeName ?? "")"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        var rows = try things.things(after: after,
                                     attribute: attributeName.map { ("attributes." + $0, (attributeValue ?? "").lowercased()) },
                                     typeName: typeName, limit: limit + 1)
        // An attribute filter is exact and case-sensitive in AWS.
        if let attributeName, let attributeValue {
            rows = rows.filter { r in r.attributes.contains { $0.0 == attributeName && $0.1 == attributeValue } }
        }
        let more = rows.count > limit
        let page = rows.prefix(limit)
        return jsonObject([
            ("things", .array(page.map { r in
                jsonObject([("thingName", .string(r.name)), ("thingTypeName", r.typeName.map(JSONValue.string)),
                            ("thingArn", .string(db.thingARN(r.name))),
                            ("attributes", Registry.attributesJSON(r.attributes)), ("version", .int(r.version))])
            })),
            ("nextToken", more ? .string(PageToken.encode(page.last!.name, scope: scope)) : nil),
        ])
    }

    // MARK: thing types

    public func createThingType(name: String, properties: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        if let p = properties, case .object = p {} else if properties != nil { throw FleetError.invalid(member: "thingTypeProperties", "must be a JSON object") }
        if let d = properties?["thingTypeDescription"]?.stringValue, d.utf8.count > 2028 {
            throw FleetError.invalid("thingTypeDescription is longer than 2028 characters")
        }
        return try db.transaction {
            if let existing = try things.typeKey(named: name) {
                guard existing.1 == properties?.compact else { throw FleetError.alreadyExists("Thing type \(name) already exists with different properties") }
                return jsonObject([("thingTypeName", .string(name)), ("thingTypeArn", .string(db.typeARN(name))), ("thingTypeId", .string(existing.0))])
            }
            let id = FleetDatabase.uuid()
            try things.insertThingType(name: name, typeId: id, properties: properties?.compact, at: now)
            return jsonObject([("thingTypeName", .string(name)), ("thingTypeArn", .string(db.typeARN(name))), ("thingTypeId", .string(id))])
        }
    }

    func thingTypeDefinition(_ r: ThingTypeRecord) -> JSONValue {
        jsonObject([
            ("thingTypeName", .string(r.name)),
            ("thingTypeArn", .string(db.typeARN(r.name))),
            ("thingTypeProperties", r.properties ?? .object([])),
            ("thingTypeMetadata", jsonObject([
                ("deprecated", .bool(r.deprecated)),
                ("deprecationDate", r.deprecatedAt.map { .string(Timestamp.iso($0)) }),
                ("creationDate", .string(Timestamp.iso(r.createdAt))),
            ])),
        ])
    }

    public func describeThingType(name: String) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        guard let r = try things.thingType(named: name) else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
        var members = thingTypeDefinition(r).objectValue ?? []
        members.insert(JSONMember("thingTypeId", .string(r.typeId)), at: 1)
        return .object(members)
    }

    public func listThingTypes(typeName: String?, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let after = try PageToken.position(nextToken, scope: "types") ?? ""
        let rows = try things.thingTypes(after: after, name: typeName, limit: limit + 1)
        let page = rows.prefix(limit)
        return jsonObject([("thingTypes", .array(page.map(thingTypeDefinition))),
                           ("nextToken", rows.count > limit ? .string(PageToken.encode(page.last!.name, scope: "types")) : nil)])
    }

    public func deprecateThingType(name: String, undo: Bool, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        guard try typeID(name) != nil else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
        try things.setDeprecated(type: name, !undo, at: undo ? nil : now)
        return .object([])
    }

    /// DeleteThingType: AWS requires the type to be deprecated first; fleetdex also refuses
    /// while things still have it.
    public func deleteThingType(name: String) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        return try db.transaction {
            guard let id = try typeID(name) else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
            if case let n = try things.thingCount(ofType: id), n > 0 {
                throw FleetError.invalid("Thing type \(name) is still used by \(n) thing(s); change their type first")
            }
            try things.deleteThingType(id)
            return .object([])
        }
    }

    // MARK: thing groups

    /// CreateThingGroup (static), optionally under a parent.
    public func createThingGroup(name: String, parent: String?, properties: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        if let parent { try Validation.name(parent, "parentGroupName") }
        if let properties { try validateGroupProperties(properties) }
        return try db.transaction {
            if let existing = try things.groupKey(named: name) {
                let parentID = try parent.flatMap { try groupID($0) }
                guard !existing.isDynamic, existing.storedProperties == properties?.compact, existing.parent == parentID else {
                    throw FleetError.alreadyExists("Thing group \(name) already exists with different properties")
                }
                return jsonObject([("thingGroupName", .string(name)), ("thingGroupArn", .string(db.groupARN(name))), ("thingGroupId", .string(existing.groupId))])
            }
            var parentID: Int64? = nil
            if let parent {
                guard let p = try things.groupKey(named: parent) else {
                    throw FleetError.notFound("Thing group \(parent) cannot be found.")
                }
                if p.isDynamic { throw FleetError.invalid("A dynamic thing group (\(parent)) cannot be a parent group") }
                let depth = try things.depth(of: p.id)
                if depth + 2 > 7 { throw FleetError.invalid("Thing groups can be nested at most 7 levels deep") }
                parentID = p.id
            }
            let gid = FleetDatabase.uuid()
            _ = try things.insertStaticGroup(name: name, groupId: gid, parent: parentID, properties: properties?.compact, at: now)
            return jsonObject([("thingGroupName", .string(name)), ("thingGroupArn", .string(db.groupARN(name))), ("thingGroupId", .string(gid))])
        }
    }

    func validateGroupProperties(_ p: JSONValue) throws {
        guard case .object = p else { throw FleetError.invalid(member: "thingGroupProperties", "must be a JSON object") }
        if let d = p["thingGroupDescription"]?.stringValue, d.utf8.count > 2028 {
            throw FleetError.invalid("thingGroupDescription is longer than 2028 characters")
        }
        if let a = p["attributePayload"]?["attributes"] { _ = try Registry.attributes(a) }
    }

    /// DescribeThingGroup (static and dynamic).
    public func describeThingGroup(name: String) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        guard let g = try things.group(named: name) else { throw FleetError.notFound("Thing group \(name) cannot be found.") }
        let roots = try things.ancestorNames(of: g.id)
        return jsonObject([
            ("thingGroupName", .string(name)),
            ("thingGroupId", .string(g.groupId)),
            ("thingGroupArn", .string(db.groupARN(name))),
            ("version", .int(g.version)),
            ("thingGroupProperties", g.properties ?? .object([])),
            ("thingGroupMetadata", jsonObject([
                ("parentGroupName", g.parentName.map(JSONValue.string)),
                ("rootToParentThingGroups", roots.isEmpty ? nil : .array(roots.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
                ("creationDate", .string(Timestamp.iso(g.createdAt))),
            ])),
            ("indexName", g.indexName.map(JSONValue.string)),
            ("queryString", g.query.map(JSONValue.string)),
            ("queryVersion", g.queryVersion.map(JSONValue.string)),
            ("status", g.status.map(JSONValue.string)),
        ])
    }

    /// UpdateThingGroup: new properties (attributes merged when `merge` is true).
    public func updateThingGroup(name: String, properties: JSONValue, expectedVersion: Int64?) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        try validateGroupProperties(properties)
        return try db.transaction {
            guard let g = try things.groupKey(named: name) else {
                throw FleetError.notFound("Thing group \(name) cannot be found.")
            }
            if let expectedVersion, expectedVersion != g.version {
                throw FleetError.versionConflict("The version for thing group \(name) does not match the expected version.")
            }
            try things.setProperties(group: g.id, properties.compact)
            return jsonObject([("version", .int(g.version + 1))])
        }
    }

    /// ListThingGroups: all, children of a parent (or all descendants with recursive), a name prefix.
    public func listThingGroups(parent: String?, namePrefix: String?, recursive: Bool, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let scope = "groups|\(parent ?? "")|\(namePrefix ?? "")|\(recursive)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        var parentID: Int64? = nil
        if let parent {
            guard let pid = try groupID(parent) else { throw FleetError.notFound("Thing group \(parent) cannot be found.") }
            parentID = pid
        }  // without a parent AWS lists every group; --recursive changes nothing then
        let names = try things.groupNames(after: after, parent: parentID, recursive: recursive,
                                          pattern: namePrefix.map { Lexer.literalGlob($0) + "*" }, limit: limit + 1)
        let page = names.prefix(limit)
        return jsonObject([
            ("thingGroups", .array(page.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
            ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }

    /// DeleteThingGroup: refused while it has child groups (AWS's rule).
    public func deleteThingGroup(name: String, expectedVersion: Int64?) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        return try db.transaction {
            guard let g = try things.groupKey(named: name) else {
                return .object([])
            }
            if g.isDynamic { throw FleetError.invalid("\(name) is a dynamic thing group: use delete-dynamic-thing-group") }
            if let expectedVersion, expectedVersion != g.version { throw FleetError.versionConflict("The version for thing group \(name) does not match the expected version.") }
            if try things.hasChildGroups(g.id) {
                throw FleetError.invalid("Cannot delete thing group \(name): it has child groups")
            }
            try db.touch(membersOf: g.id)
            try things.deleteGroup(g.id)
            return .object([])
        }
    }

    /// AddThingToThingGroup (static groups only). A thing is in at most 10 groups; with
    /// `overrideDynamicGroups` the newest dynamic group gives its place up.
    public func addThingToThingGroup(group: String, thingName: String, overrideDynamicGroups: Bool, at now: Int64) throws -> JSONValue {
        try Validation.name(group, "thingGroupName")
        return try db.transaction {
            let t = try requireThing(thingName)
            guard let g = try things.groupKey(named: group) else {
                throw FleetError.notFound("Thing group \(group) cannot be found.")
            }
            if g.isDynamic { throw FleetError.invalid("Things cannot be added to the dynamic thing group \(group) by hand; its query decides its members") }
            if try things.isMember(group: g.id, thing: t.id) { return .object([]) }
            try makeRoom(thing: t.id, thingName: thingName, overrideDynamicGroups: overrideDynamicGroups, at: now)
            try things.addMember(group: g.id, thing: t.id, at: now)
            try db.touch(t.id)
            return .object([])
        }
    }

    /// Frees a group slot for a static group, or fails with AWS's limit error.
    func makeRoom(thing: Int64, thingName: String, overrideDynamicGroups: Bool, at now: Int64) throws {
        let count = try things.membershipCount(of: thing)
        guard count >= 10 else { return }
        if overrideDynamicGroups, let newest = try things.newestDynamicGroup(of: thing) {
            try things.removeMember(group: newest, thing: thing)
            try db.dynamicGroupStore.log(group: newest, thingName: thingName, change: "left", at: now,
                                         reason: "pushed out by a static group added with overrideDynamicGroups")
            try db.touch(thing)
            return
        }
        throw FleetError.limitExceeded("Thing \(thingName) is already in 10 thing groups, the most a thing can belong to"
            + (overrideDynamicGroups ? "" : " (set overrideDynamicGroups to replace a dynamic group)"))
    }

    public func removeThingFromThingGroup(group: String, thingName: String) throws -> JSONValue {
        try Validation.name(group, "thingGroupName")
        return try db.transaction {
            let t = try requireThing(thingName)
            guard let g = try things.groupKey(named: group) else {
                throw FleetError.notFound("Thing group \(group) cannot be found.")
            }
            if g.isDynamic { throw FleetError.invalid("Things cannot be removed from the dynamic thing group \(group) by hand") }
            try things.removeMember(group: g.id, thing: t.id)
            try db.touch(t.id)
            return .object([])
        }
    }

    /// ListThingsInThingGroup, with `recursive` including the members of subgroups.
    public func listThingsInThingGroup(group: String, recursive: Bool, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        try Validation.name(group, "thingGroupName")
        let limit = try Validation.maxResults(maxResults, default: 100, max: 250)
        guard let gid = try groupID(group) else { throw FleetError.notFound("Thing group \(group) cannot be found.") }
        let scope = "members|\(group)|\(recursive)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let names = try things.memberNames(of: gid, recursive: recursive, after: after, limit: limit + 1)
        let page = names.prefix(limit)
        return jsonObject([("things", .array(page.map(JSONValue.string))),
                           ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil)])
    }

    public func listThingGroupsForThing(thingName: String, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 25, max: 250)
        let t = try requireThing(thingName)
        let scope = "groups-for|\(thingName)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let names = try things.groupNames(ofThing: t.id, after: after, limit: limit + 1)
        let page = names.prefix(limit)
        return jsonObject([
            ("thingGroups", .array(page.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
            ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }

    // MARK: shadows

    /// UpdateThingShadow: merges `state.reported` / `state.desired` (null removes a key),
    /// bumps the version and re-indexes the shadow's leaves. With `expectedVersion` (the
    /// request's `version`), the update is made only when the shadow's current version (0: none)
    /// is that one, checked in the update's transaction (409 VersionConflict otherwise).
    /// The version a shadow update document asks for (its `version` member): nil when absent;
    /// one no shadow has (-1) when it is not a whole number.
    public static func expectedVersion(_ member: JSONValue?) -> Int64? {
        guard let member else { return nil }
        guard let v = member.int64Value, let d = member.doubleValue, Double(v) == d else { return -1 }
        return v
    }

    public func updateThingShadow(thingName: String, shadowName: String?, payload: JSONValue, at now: Int64,
                                  expectedVersion: Int64? = nil) throws -> JSONValue {
        if let shadowName { try Validation.name(shadowName, "shadowName", max: 64) }
        guard case .object = payload, let state = payload["state"] else {
            throw FleetError.invalid("the shadow payload must be a JSON object with a \"state\" member")
        }
        guard state.isNull || state.objectValue != nil else { throw FleetError.invalid("\"state\" must be an object") }
        // The document's own `version` (AWS: a mismatch is 409) when the caller gives none.
        let expectedVersion = expectedVersion ?? Self.expectedVersion(payload["version"])
        return try db.transaction {
            let t = try requireThing(thingName)
            let name = shadowName ?? ""
            if let expectedVersion, (try shadows.shadow(thing: t.id, name: name)?.version ?? 0) != expectedVersion {
                throw FleetError.versionConflict("Version conflict")
            }
            let result = try writeShadow(thing: t.id, name: name, state: state, at: now)
            return jsonObject([("state", result.state), ("version", .int(result.version)), ("timestamp", .int(now / 1000))])
        }
    }

    func writeShadow(thing: Int64, name: String, state: JSONValue, at now: Int64, replace: Bool = false) throws -> (state: JSONValue, version: Int64) {
        let old = try shadows.shadow(thing: thing, name: name)
        let oldDoc = old?.document
        var reported = replace ? nil : oldDoc?["state"]?["reported"]
        var desired = replace ? nil : oldDoc?["state"]?["desired"]
        if state.isNull {
            reported = nil; desired = nil
        } else {
            if let r = state["reported"] { reported = r.isNull ? nil : ShadowState.merge(reported, r) }
            if let d = state["desired"] { desired = d.isNull ? nil : ShadowState.merge(desired, d) }
        }
        let shadowState = ShadowState(reported: reported, desired: desired)
        let version = (old?.version ?? 0) + 1
        let stateJSON = jsonObject([("desired", desired), ("reported", reported), ("delta", shadowState.delta)])
        let doc = jsonObject([("state", stateJSON), ("version", .int(version))])
        try shadows.upsert(thing: thing, name: name, document: doc.compact, version: version, hasDelta: shadowState.delta != nil, at: now)
        let allowed = name.isEmpty ? nil : try db.indexedShadowNames()
        try fields.replace(thing, old: shadowFields(name: name, document: oldDoc, allowed: allowed),
                           new: shadowFields(name: name, document: doc, allowed: allowed))
        try db.touch(thing)
        return (stateJSON, version)
    }

    /// Re-indexes every shadow (after the indexing configuration changed).
    func reindexShadows() throws {
        try fields.deleteShadowFields()
        let allowed = try db.indexedShadowNames()
        for shadow in try shadows.allShadows() {
            try fields.insert(shadow.thing, shadowFields(name: shadow.name, document: shadow.document, allowed: allowed))
        }
    }

    public func getThingShadow(thingName: String, shadowName: String?) throws -> JSONValue {
        let t = try requireThing(thingName)
        guard let doc = try shadows.document(thing: t.id, name: shadowName ?? "") else {
            throw FleetError.notFound("No shadow exists with name: '\(shadowName ?? "")'")
        }
        return doc
    }

    public func deleteThingShadow(thingName: String, shadowName: String?) throws -> JSONValue {
        let t = try requireThing(thingName)
        let name = shadowName ?? ""
        return try db.transaction {
            guard let shadow = try shadows.shadow(thing: t.id, name: name) else {
                throw FleetError.notFound("No shadow exists with name: '\(name)'")
            }
            try fields.delete(t.id, shadowFields(name: name, document: shadow.document, allowed: name.isEmpty ? nil : try db.indexedShadowNames()))
            try shadows.delete(thing: t.id, name: name)
            try db.touch(t.id)
            return .object([])
        }
    }
}
