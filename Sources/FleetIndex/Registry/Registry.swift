// FleetIndex: the thing registry: things, thing types, the static group hierarchy and its
// membership, classic and named shadows. Each public method is one AWS operation: a
// request in, the response shaped as the botocore `iot` model out.
import FleetQuery
import FleetSQLite

/// The registry operations.
public struct Registry {
    public let db: FleetDatabase
    var c: Connection { db.connection }

    public init(_ db: FleetDatabase) { self.db = db }

    // MARK: lookups

    struct ThingRow {
        var id: Int64
        var name: String
        var thingId: String
        var typeName: String?
        var attributes: [(String, String)]
        var version: Int64
    }

    func thing(_ name: String) throws -> ThingRow? {
        let rows = try c.query("""
            SELECT t.id, t.name, t.thing_id, y.name, t.attributes, t.version
            FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.name = ?
            """, [name]) { s in
            ThingRow(id: s.int(0), name: s.text(1), thingId: s.text(2), typeName: s.optionalText(3),
                     attributes: Registry.decodeAttributes(s.text(4)), version: s.int(5))
        }
        return rows.first
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
        try c.scalar("SELECT id FROM thing_type WHERE name = ?", [name])?.int
    }

    func groupID(_ name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing_group WHERE name = ?", [name])?.int
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

    var fields: FieldStore { FieldStore(c: c) }

    /// Re-indexes a thing's attributes from `old` to `new`.
    func indexAttributes(_ thing: Int64, old: [(String, String)], new: [(String, String)]) throws {
        try fields.replace(thing, old: FieldIndexer.attributes(old), new: FieldIndexer.attributes(new))
        try db.touch(thing)
    }

    /// Every indexed value of a thing, from its documents (attributes and shadows).
    func indexedValues(_ thing: Int64) throws -> [FieldValue] {
        var out: [FieldValue] = []
        if let attrs = try c.scalar("SELECT attributes FROM thing WHERE id = ?", [thing])?.string {
            out += FieldIndexer.attributes(Registry.decodeAttributes(attrs))
        }
        let allowed = try db.indexedShadowNames()
        for (name, doc) in try c.query("SELECT name, document FROM shadow WHERE thing = ?", [thing], { ($0.text(0), $0.text(1)) }) {
            out += shadowFields(name: name, document: try? JSONValue.parse(doc), allowed: allowed)
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
        return try c.transaction {
            if let existing = try thing(name) {
                let same = existing.typeName == typeName
                    && Set(existing.attributes.map { "\($0.0)=\($0.1)" }) == Set((attributes ?? []).map { "\($0.0)=\($0.1)" })
                guard same else { throw FleetError.alreadyExists("Thing \(name) already exists with different tags or attributes") }
                return jsonObject([("thingName", .string(name)), ("thingArn", .string(db.thingARN(name))), ("thingId", .string(existing.thingId))])
            }
            var type: Int64? = nil
            if let typeName {
                guard let t = try c.scalar("SELECT id FROM thing_type WHERE name = ? AND deprecated = 0", [typeName])?.int else {
                    if try typeID(typeName) != nil { throw FleetError.invalid("Thing type \(typeName) is deprecated") }
                    throw FleetError.notFound("Thing type \(typeName) cannot be found.")
                }
                type = t
            }
            let thingId = FleetDatabase.uuid()
            let attrs = attributes ?? []
            try c.execute("INSERT INTO thing(name, name_lower, thing_id, type, attributes, version, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
                          [name, name.lowercased(), thingId, type, Registry.encodeAttributes(attrs), now])
            let id = c.lastInsertRowID
            try indexAttributes(id, old: [], new: attrs)
            try linkClient(thing: id, name: name)
            return jsonObject([("thingName", .string(name)), ("thingArn", .string(db.thingARN(name))), ("thingId", .string(thingId))])
        }
    }

    /// A client id seen before the thing existed (an unregistered client) becomes the thing's.
    func linkClient(thing: Int64, name: String) throws {
        try c.execute("UPDATE client SET thing = ? WHERE client_id = ?", [thing, name])
        try c.execute("""
            UPDATE thing SET connected = coalesce((SELECT connected FROM client WHERE client_id = ?), 0),
                conn_ts = (SELECT ts FROM client WHERE client_id = ?),
                disconnect_reason = (SELECT CASE WHEN connected = 0 THEN reason END FROM client WHERE client_id = ?)
            WHERE id = ?
            """, [name, name, name, thing])
        try c.execute("UPDATE alarm SET thing = ? WHERE client = (SELECT id FROM client WHERE client_id = ?)", [thing, name])
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
        return try c.transaction {
            let t = try requireThing(name)
            if let expectedVersion, expectedVersion != t.version {
                throw FleetError.versionConflict("The version for thing \(name) does not match the expected version (expected \(expectedVersion), current \(t.version)).")
            }
            var typeValue: SQLiteValue = try c.scalar("SELECT type FROM thing WHERE id = ?", [t.id]) ?? .null
            if let typeName {
                try Validation.name(typeName, "thingTypeName")
                guard let id = try typeID(typeName) else { throw FleetError.notFound("Thing type \(typeName) cannot be found.") }
                typeValue = .integer(id)
            } else if removeThingType {
                typeValue = .null
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
            try c.execute("UPDATE thing SET type = ?, attributes = ?, version = version + 1 WHERE id = ?",
                          [typeValue, Registry.encodeAttributes(attrs), t.id])
            try indexAttributes(t.id, old: t.attributes, new: attrs)
            return .object([])
        }
    }

    /// DeleteThing: the thing, its shadows, memberships and index rows. Active violations
    /// are invalidated by the next evaluation (the thing left every target).
    public func deleteThing(name: String, expectedVersion: Int64?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingName")
        return try c.transaction {
            guard let t = try thing(name) else { return .object([]) }  // AWS: deleting a missing thing succeeds
            if let expectedVersion, expectedVersion != t.version {
                throw FleetError.versionConflict("The version for thing \(name) does not match the expected version (expected \(expectedVersion), current \(t.version)).")
            }
            // AWS refuses to delete a thing with principals attached (FleetDevices' table).
            if try c.scalar("SELECT 1 FROM thing_principal WHERE thing = ? LIMIT 1", [t.id]) != nil {
                throw FleetError.invalid("Cannot delete. Thing \(name) is still attached to one or more principals")
            }
            try Defender(db).invalidate(thing: t.id, reason: "the thing was deleted", at: now)
            try fields.delete(t.id, try indexedValues(t.id))
            try db.uncountMemberships(of: t.id)
            try c.execute("DELETE FROM thing WHERE id = ?", [t.id])
            return .object([])
        }
    }

    /// ListThings, optionally filtered by one attribute and by type, in name order.
    public func listThings(attributeName: String?, attributeValue: String?, typeName: String?,
                           maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let scope = "list-things|\(attributeName ?? "")|\(attributeValue ?? "")|\(typeName ?? "")"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        var sql = "SELECT t.name, y.name, t.attributes, t.version FROM thing AS t LEFT JOIN thing_type AS y ON y.id = t.type WHERE t.name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let attributeName {
            sql += " AND t.id IN (SELECT thing FROM thing_text WHERE field = ? AND value = ?)"
            binds += [.text("attributes." + attributeName), .text((attributeValue ?? "").lowercased())]
        }
        if let typeName { sql += " AND y.name = ?"; binds.append(.text(typeName)) }
        sql += " ORDER BY t.name LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        var rows = try c.query(sql, binds) { s in (s.text(0), s.optionalText(1), s.text(2), s.int(3)) }
        // An attribute filter is exact and case-sensitive in AWS.
        if let attributeName, let attributeValue {
            rows = rows.filter { r in Registry.decodeAttributes(r.2).contains { $0.0 == attributeName && $0.1 == attributeValue } }
        }
        let more = rows.count > limit
        let page = rows.prefix(limit)
        return jsonObject([
            ("things", .array(page.map { r in
                jsonObject([("thingName", .string(r.0)), ("thingTypeName", r.1.map(JSONValue.string)),
                            ("thingArn", .string(db.thingARN(r.0))),
                            ("attributes", Registry.attributesJSON(Registry.decodeAttributes(r.2))), ("version", .int(r.3))])
            })),
            ("nextToken", more ? .string(PageToken.encode(page.last!.0, scope: scope)) : nil),
        ])
    }

    // MARK: thing types

    public func createThingType(name: String, properties: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        if let p = properties, case .object = p {} else if properties != nil { throw FleetError.invalid(member: "thingTypeProperties", "must be a JSON object") }
        if let d = properties?["thingTypeDescription"]?.stringValue, d.utf8.count > 2028 {
            throw FleetError.invalid("thingTypeDescription is longer than 2028 characters")
        }
        return try c.transaction {
            if let existing = try c.query("SELECT type_id, properties FROM thing_type WHERE name = ?", [name], { ($0.text(0), $0.optionalText(1)) }).first {
                guard existing.1 == properties?.compact else { throw FleetError.alreadyExists("Thing type \(name) already exists with different properties") }
                return jsonObject([("thingTypeName", .string(name)), ("thingTypeArn", .string(db.typeARN(name))), ("thingTypeId", .string(existing.0))])
            }
            let id = FleetDatabase.uuid()
            try c.execute("INSERT INTO thing_type(name, name_lower, type_id, properties, created_at) VALUES (?, ?, ?, ?, ?)",
                          [name, name.lowercased(), id, properties?.compact, now])
            return jsonObject([("thingTypeName", .string(name)), ("thingTypeArn", .string(db.typeARN(name))), ("thingTypeId", .string(id))])
        }
    }

    func thingTypeDefinition(_ s: Statement) -> JSONValue {
        let name = s.text(0)
        return jsonObject([
            ("thingTypeName", .string(name)),
            ("thingTypeArn", .string(db.typeARN(name))),
            ("thingTypeProperties", s.optionalText(1).flatMap { try? JSONValue.parse($0) } ?? .object([])),
            ("thingTypeMetadata", jsonObject([
                ("deprecated", .bool(s.int(2) != 0)),
                ("deprecationDate", s.optionalInt(3).map { .string(Timestamp.iso($0)) }),
                ("creationDate", .string(Timestamp.iso(s.int(4)))),
            ])),
        ])
    }

    public func describeThingType(name: String) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        guard let r = try c.query("SELECT name, properties, deprecated, deprecated_at, created_at, type_id FROM thing_type WHERE name = ?", [name], { s in
            (thingTypeDefinition(s), s.text(5))
        }).first else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
        var members = r.0.objectValue ?? []
        members.insert(JSONMember("thingTypeId", .string(r.1)), at: 1)
        return .object(members)
    }

    public func listThingTypes(typeName: String?, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let after = try PageToken.position(nextToken, scope: "types") ?? ""
        var sql = "SELECT name, properties, deprecated, deprecated_at, created_at FROM thing_type WHERE name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let typeName { sql += " AND name = ?"; binds.append(.text(typeName)) }
        sql += " ORDER BY name LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        let rows = try c.query(sql, binds) { s in (s.text(0), thingTypeDefinition(s)) }
        let page = rows.prefix(limit)
        return jsonObject([("thingTypes", .array(page.map(\.1))),
                           ("nextToken", rows.count > limit ? .string(PageToken.encode(page.last!.0, scope: "types")) : nil)])
    }

    public func deprecateThingType(name: String, undo: Bool, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        guard try typeID(name) != nil else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
        try c.execute("UPDATE thing_type SET deprecated = ?, deprecated_at = ? WHERE name = ?", [undo ? 0 : 1, undo ? nil : now, name])
        return .object([])
    }

    /// DeleteThingType: AWS requires the type to be deprecated first; fleetdex also refuses
    /// while things still have it.
    public func deleteThingType(name: String) throws -> JSONValue {
        try Validation.name(name, "thingTypeName")
        return try c.transaction {
            guard let id = try typeID(name) else { throw FleetError.notFound("Thing type \(name) cannot be found.") }
            if let n = try c.scalar("SELECT count(*) FROM thing WHERE type = ?", [id])?.int, n > 0 {
                throw FleetError.invalid("Thing type \(name) is still used by \(n) thing(s); change their type first")
            }
            try c.execute("DELETE FROM thing_type WHERE id = ?", [id])
            return .object([])
        }
    }

    // MARK: thing groups

    /// CreateThingGroup (static), optionally under a parent.
    public func createThingGroup(name: String, parent: String?, properties: JSONValue?, at now: Int64) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        if let parent { try Validation.name(parent, "parentGroupName") }
        if let properties { try validateGroupProperties(properties) }
        return try c.transaction {
            if let existing = try c.query("SELECT group_id, properties, parent, query FROM thing_group WHERE name = ?", [name], { ($0.text(0), $0.optionalText(1), $0.optionalInt(2), $0.optionalText(3)) }).first {
                let parentID = try parent.flatMap { try groupID($0) }
                guard existing.3 == nil, existing.1 == properties?.compact, existing.2 == parentID else {
                    throw FleetError.alreadyExists("Thing group \(name) already exists with different properties")
                }
                return jsonObject([("thingGroupName", .string(name)), ("thingGroupArn", .string(db.groupARN(name))), ("thingGroupId", .string(existing.0))])
            }
            var parentID: Int64? = nil
            if let parent {
                guard let p = try c.query("SELECT id, query FROM thing_group WHERE name = ?", [parent], { ($0.int(0), $0.optionalText(1)) }).first else {
                    throw FleetError.notFound("Thing group \(parent) cannot be found.")
                }
                if p.1 != nil { throw FleetError.invalid("A dynamic thing group (\(parent)) cannot be a parent group") }
                let depth = try c.scalar("SELECT max(depth) FROM thing_group_ancestor WHERE group_id = ?", [p.0])?.int ?? 0
                if depth + 2 > 7 { throw FleetError.invalid("Thing groups can be nested at most 7 levels deep") }
                parentID = p.0
            }
            let gid = FleetDatabase.uuid()
            try c.execute("INSERT INTO thing_group(name, name_lower, group_id, parent, properties, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                          [name, name.lowercased(), gid, parentID, properties?.compact, now])
            let id = c.lastInsertRowID
            try c.execute("INSERT INTO thing_group_ancestor(group_id, ancestor, depth) VALUES (?, ?, 0)", [id, id])
            if let parentID {
                try c.execute("INSERT INTO thing_group_ancestor(group_id, ancestor, depth) SELECT ?, ancestor, depth + 1 FROM thing_group_ancestor WHERE group_id = ?", [id, parentID])
            }
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
        guard let g = try c.query("""
            SELECT g.id, g.group_id, g.version, g.properties, p.name, g.created_at, g.query, g.query_version, g.index_name, g.status
            FROM thing_group AS g LEFT JOIN thing_group AS p ON p.id = g.parent WHERE g.name = ?
            """, [name], { s in (s.int(0), s.text(1), s.int(2), s.optionalText(3), s.optionalText(4), s.int(5), s.optionalText(6), s.optionalText(7), s.optionalText(8), s.optionalText(9)) }).first
        else { throw FleetError.notFound("Thing group \(name) cannot be found.") }
        let roots = try c.query("""
            SELECT t.name FROM thing_group_ancestor AS a JOIN thing_group AS t ON t.id = a.ancestor
            WHERE a.group_id = ? AND a.depth > 0 ORDER BY a.depth DESC
            """, [g.0]) { $0.text(0) }
        return jsonObject([
            ("thingGroupName", .string(name)),
            ("thingGroupId", .string(g.1)),
            ("thingGroupArn", .string(db.groupARN(name))),
            ("version", .int(g.2)),
            ("thingGroupProperties", g.3.flatMap { try? JSONValue.parse($0) } ?? .object([])),
            ("thingGroupMetadata", jsonObject([
                ("parentGroupName", g.4.map(JSONValue.string)),
                ("rootToParentThingGroups", roots.isEmpty ? nil : .array(roots.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
                ("creationDate", .string(Timestamp.iso(g.5))),
            ])),
            ("indexName", g.8.map(JSONValue.string)),
            ("queryString", g.6.map(JSONValue.string)),
            ("queryVersion", g.7.map(JSONValue.string)),
            ("status", g.9.map(JSONValue.string)),
        ])
    }

    /// UpdateThingGroup: new properties (attributes merged when `merge` is true).
    public func updateThingGroup(name: String, properties: JSONValue, expectedVersion: Int64?) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        try validateGroupProperties(properties)
        return try c.transaction {
            guard let g = try c.query("SELECT id, version FROM thing_group WHERE name = ?", [name], { ($0.int(0), $0.int(1)) }).first else {
                throw FleetError.notFound("Thing group \(name) cannot be found.")
            }
            if let expectedVersion, expectedVersion != g.1 {
                throw FleetError.versionConflict("The version for thing group \(name) does not match the expected version.")
            }
            try c.execute("UPDATE thing_group SET properties = ?, version = version + 1 WHERE id = ?", [properties.compact, g.0])
            return jsonObject([("version", .int(g.1 + 1))])
        }
    }

    /// ListThingGroups: all, children of a parent (or all descendants with recursive), a name prefix.
    public func listThingGroups(parent: String?, namePrefix: String?, recursive: Bool, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 50, max: 250)
        let scope = "groups|\(parent ?? "")|\(namePrefix ?? "")|\(recursive)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        var sql = "SELECT g.name FROM thing_group AS g WHERE g.name > ?"
        var binds: [SQLiteValue] = [.text(after)]
        if let parent {
            guard let pid = try groupID(parent) else { throw FleetError.notFound("Thing group \(parent) cannot be found.") }
            if recursive {
                sql += " AND g.id IN (SELECT group_id FROM thing_group_ancestor WHERE ancestor = ? AND depth > 0)"
            } else {
                sql += " AND g.parent = ?"
            }
            binds.append(.integer(pid))
        }  // without a parent AWS lists every group; --recursive changes nothing then
        if let namePrefix {
            sql += " AND g.name GLOB ?"
            binds.append(.text(Lexer.literalGlob(namePrefix) + "*"))
        }
        sql += " ORDER BY g.name LIMIT ?"
        binds.append(.integer(Int64(limit + 1)))
        let names = try c.query(sql, binds) { $0.text(0) }
        let page = names.prefix(limit)
        return jsonObject([
            ("thingGroups", .array(page.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
            ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }

    /// DeleteThingGroup: refused while it has child groups (AWS's rule).
    public func deleteThingGroup(name: String, expectedVersion: Int64?) throws -> JSONValue {
        try Validation.name(name, "thingGroupName")
        return try c.transaction {
            guard let g = try c.query("SELECT id, version, query FROM thing_group WHERE name = ?", [name], { ($0.int(0), $0.int(1), $0.optionalText(2)) }).first else {
                return .object([])
            }
            if g.2 != nil { throw FleetError.invalid("\(name) is a dynamic thing group: use delete-dynamic-thing-group") }
            if let expectedVersion, expectedVersion != g.1 { throw FleetError.versionConflict("The version for thing group \(name) does not match the expected version.") }
            if try c.scalar("SELECT 1 FROM thing_group WHERE parent = ?", [g.0]) != nil {
                throw FleetError.invalid("Cannot delete thing group \(name): it has child groups")
            }
            try db.touch(selectedBy: "SELECT thing FROM thing_group_member WHERE group_id = ?", [g.0])
            try c.execute("DELETE FROM thing_group WHERE id = ?", [g.0])
            return .object([])
        }
    }

    /// AddThingToThingGroup (static groups only). A thing is in at most 10 groups; with
    /// `overrideDynamicGroups` the newest dynamic group gives its place up.
    public func addThingToThingGroup(group: String, thingName: String, overrideDynamicGroups: Bool, at now: Int64) throws -> JSONValue {
        try Validation.name(group, "thingGroupName")
        return try c.transaction {
            let t = try requireThing(thingName)
            guard let g = try c.query("SELECT id, query FROM thing_group WHERE name = ?", [group], { ($0.int(0), $0.optionalText(1)) }).first else {
                throw FleetError.notFound("Thing group \(group) cannot be found.")
            }
            if g.1 != nil { throw FleetError.invalid("Things cannot be added to the dynamic thing group \(group) by hand; its query decides its members") }
            if try c.scalar("SELECT 1 FROM thing_group_member WHERE group_id = ? AND thing = ?", [g.0, t.id]) != nil { return .object([]) }
            try makeRoom(thing: t.id, thingName: thingName, overrideDynamicGroups: overrideDynamicGroups, at: now)
            try db.addMember(group: g.0, thing: t.id, at: now)
            try db.touch(t.id)
            return .object([])
        }
    }

    /// Frees a group slot for a static group, or fails with AWS's limit error.
    func makeRoom(thing: Int64, thingName: String, overrideDynamicGroups: Bool, at now: Int64) throws {
        let count = try c.scalar("SELECT count(*) FROM thing_group_member WHERE thing = ?", [thing])?.int ?? 0
        guard count >= 10 else { return }
        if overrideDynamicGroups, let newest = try c.query("""
            SELECT g.id FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id
            WHERE m.thing = ? AND g.query IS NOT NULL ORDER BY g.created_at DESC, g.id DESC LIMIT 1
            """, [thing], { $0.int(0) }).first {
            try db.removeMember(group: newest, thing: thing)
            try c.execute("INSERT INTO group_log(group_id, thing_name, change, time, reason) VALUES (?, ?, 'left', ?, 'pushed out by a static group added with overrideDynamicGroups')", [newest, thingName, now])
            try db.touch(thing)
            return
        }
        throw FleetError.limitExceeded("Thing \(thingName) is already in 10 thing groups, the most a thing can belong to"
            + (overrideDynamicGroups ? "" : " (set overrideDynamicGroups to replace a dynamic group)"))
    }

    public func removeThingFromThingGroup(group: String, thingName: String) throws -> JSONValue {
        try Validation.name(group, "thingGroupName")
        return try c.transaction {
            let t = try requireThing(thingName)
            guard let g = try c.query("SELECT id, query FROM thing_group WHERE name = ?", [group], { ($0.int(0), $0.optionalText(1)) }).first else {
                throw FleetError.notFound("Thing group \(group) cannot be found.")
            }
            if g.1 != nil { throw FleetError.invalid("Things cannot be removed from the dynamic thing group \(group) by hand") }
            try db.removeMember(group: g.0, thing: t.id)
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
        let sql = recursive
            ? "SELECT DISTINCT t.name FROM thing_group_ancestor AS a JOIN thing_group_member AS m ON m.group_id = a.group_id JOIN thing AS t ON t.id = m.thing WHERE a.ancestor = ? AND t.name > ? ORDER BY t.name LIMIT ?"
            : "SELECT t.name FROM thing_group_member AS m JOIN thing AS t ON t.id = m.thing WHERE m.group_id = ? AND t.name > ? ORDER BY t.name LIMIT ?"
        let names = try c.query(sql, [gid, after, limit + 1]) { $0.text(0) }
        let page = names.prefix(limit)
        return jsonObject([("things", .array(page.map(JSONValue.string))),
                           ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil)])
    }

    public func listThingGroupsForThing(thingName: String, maxResults: Int?, nextToken: String?) throws -> JSONValue {
        let limit = try Validation.maxResults(maxResults, default: 25, max: 250)
        let t = try requireThing(thingName)
        let scope = "groups-for|\(thingName)"
        let after = try PageToken.position(nextToken, scope: scope) ?? ""
        let names = try c.query("SELECT g.name FROM thing_group_member AS m JOIN thing_group AS g ON g.id = m.group_id WHERE m.thing = ? AND g.name > ? ORDER BY g.name LIMIT ?",
                                [t.id, after, limit + 1]) { $0.text(0) }
        let page = names.prefix(limit)
        return jsonObject([
            ("thingGroups", .array(page.map { jsonObject([("groupName", .string($0)), ("groupArn", .string(db.groupARN($0)))]) })),
            ("nextToken", names.count > limit ? .string(PageToken.encode(page.last!, scope: scope)) : nil),
        ])
    }

    // MARK: shadows

    /// UpdateThingShadow: merges `state.reported` / `state.desired` (null removes a key),
    /// bumps the version and re-indexes the shadow's leaves.
    public func updateThingShadow(thingName: String, shadowName: String?, payload: JSONValue, at now: Int64) throws -> JSONValue {
        if let shadowName { try Validation.name(shadowName, "shadowName", max: 64) }
        guard case .object = payload, let state = payload["state"] else {
            throw FleetError.invalid("the shadow payload must be a JSON object with a \"state\" member")
        }
        guard state.isNull || state.objectValue != nil else { throw FleetError.invalid("\"state\" must be an object") }
        return try c.transaction {
            let t = try requireThing(thingName)
            let name = shadowName ?? ""
            let result = try writeShadow(thing: t.id, name: name, state: state, at: now)
            return jsonObject([("state", result.state), ("version", .int(result.version)), ("timestamp", .int(now / 1000))])
        }
    }

    func writeShadow(thing: Int64, name: String, state: JSONValue, at now: Int64, replace: Bool = false) throws -> (state: JSONValue, version: Int64) {
        let old = try c.query("SELECT document, version FROM shadow WHERE thing = ? AND name = ?", [thing, name]) { ($0.text(0), $0.int(1)) }.first
        let oldDoc = old.flatMap { try? JSONValue.parse($0.0) }
        var reported = replace ? nil : oldDoc?["state"]?["reported"]
        var desired = replace ? nil : oldDoc?["state"]?["desired"]
        if state.isNull {
            reported = nil; desired = nil
        } else {
            if let r = state["reported"] { reported = r.isNull ? nil : ShadowState.merge(reported, r) }
            if let d = state["desired"] { desired = d.isNull ? nil : ShadowState.merge(desired, d) }
        }
        let shadowState = ShadowState(reported: reported, desired: desired)
        let version = (old?.1 ?? 0) + 1
        let stateJSON = jsonObject([("desired", desired), ("reported", reported), ("delta", shadowState.delta)])
        let doc = jsonObject([("state", stateJSON), ("version", .int(version))])
        try c.execute("""
            INSERT INTO shadow(thing, name, document, version, has_delta, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(thing, name) DO UPDATE SET document = excluded.document, version = excluded.version,
                has_delta = excluded.has_delta, updated_at = excluded.updated_at
            """, [thing, name, doc.compact, version, shadowState.delta != nil, now])
        let allowed = name.isEmpty ? nil : try db.indexedShadowNames()
        try fields.replace(thing, old: shadowFields(name: name, document: oldDoc, allowed: allowed),
                           new: shadowFields(name: name, document: doc, allowed: allowed))
        try db.touch(thing)
        return (stateJSON, version)
    }

    /// Re-indexes every shadow (after the indexing configuration changed).
    func reindexShadows() throws {
        for table in ["thing_text", "thing_number", "thing_flag"] {
            try c.execute("DELETE FROM \(table) WHERE field >= 'shadow.' AND field < 'shadow/'")
        }
        let allowed = try db.indexedShadowNames()
        let rows = try c.query("SELECT thing, name, document FROM shadow") { ($0.int(0), $0.text(1), $0.text(2)) }
        for (thing, name, doc) in rows {
            try fields.insert(thing, shadowFields(name: name, document: try? JSONValue.parse(doc), allowed: allowed))
        }
    }

    public func getThingShadow(thingName: String, shadowName: String?) throws -> JSONValue {
        let t = try requireThing(thingName)
        guard let doc = try c.scalar("SELECT document FROM shadow WHERE thing = ? AND name = ?", [t.id, shadowName ?? ""])?.string else {
            throw FleetError.notFound("No shadow exists with name: '\(shadowName ?? "")'")
        }
        return try JSONValue.parse(doc)
    }

    public func deleteThingShadow(thingName: String, shadowName: String?) throws -> JSONValue {
        let t = try requireThing(thingName)
        let name = shadowName ?? ""
        return try c.transaction {
            guard let doc = try c.scalar("SELECT document FROM shadow WHERE thing = ? AND name = ?", [t.id, name])?.string else {
                throw FleetError.notFound("No shadow exists with name: '\(name)'")
            }
            try fields.delete(t.id, shadowFields(name: name, document: try? JSONValue.parse(doc), allowed: name.isEmpty ? nil : try db.indexedShadowNames()))
            try c.execute("DELETE FROM shadow WHERE thing = ? AND name = ?", [t.id, name])
            try db.touch(t.id)
            return .object([])
        }
    }
}
