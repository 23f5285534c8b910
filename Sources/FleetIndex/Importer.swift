// FleetIndex: `import-things`: a JSON Lines file of things loaded in one transaction.
// Upserts, creates missing types and groups; a bad line aborts the whole file.
import FleetSQLite

/// Bulk registry loading.
public struct Importer {
    public let db: FleetDatabase
    public init(_ db: FleetDatabase) { self.db = db }

    public struct Summary: Equatable {
        public var lines = 0
        public var created = 0
        public var updated = 0
        public var typesCreated = 0
        public var groupsCreated = 0
    }

    /// Imports `{thingName, thingTypeName?, attributes?, thingGroupNames?, shadow?}` lines.
    /// On the first bad line nothing is kept and the error names the line.
    public func importThings(_ reader: LineReader, at now: Int64) throws -> Summary {
        let c = db.connection
        let registry = Registry(db)
        var summary = Summary()
        var types: [String: Int64] = [:]
        var groups: [String: Int64] = [:]
        try c.forEach("SELECT name, id FROM thing_type") { types[$0.text(0)] = $0.int(1) }
        try c.forEach("SELECT name, id FROM thing_group WHERE query IS NULL") { groups[$0.text(0)] = $0.int(1) }
        // A bulk load into an empty registry builds the secondary indexes once at the end
        // (sorting beats a random insert per row), with a larger page cache meanwhile.
        let empty = try c.scalar("SELECT 1 FROM thing LIMIT 1") == nil
        try c.execute(script: "PRAGMA cache_size = -262144")
        defer { try? c.execute(script: "PRAGMA cache_size = -2000") }
        // Into an empty registry, a rollback journal writes each new page once (WAL would write
        // it twice: to the log, then to the database at the checkpoint). Still one transaction.
        if empty, c.path != ":memory:" { try c.execute(script: "PRAGMA journal_mode = DELETE") }
        defer { if empty, c.path != ":memory:" { try? c.execute(script: "PRAGMA journal_mode = WAL") } }
        try c.transaction {
            var deferred: [String] = []
            var added: [Int64: Int] = [:]
            if empty {
                let indexes = try c.query("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = 'thing'") { ($0.text(0), $0.text(1)) }
                for (name, sql) in indexes {
                    try c.execute(script: "DROP INDEX \"\(name)\"")
                    deferred.append(sql)
                }
            }
            let find = try c.prepare("SELECT id, attributes FROM thing WHERE name = ?")
            let insert = try c.prepare("INSERT INTO thing(name, name_lower, thing_id, type, attributes, version, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)")
            let update = try c.prepare("UPDATE thing SET type = ?, attributes = ?, version = version + 1 WHERE id = ?")
            let member = try c.prepare("INSERT OR IGNORE INTO thing_group_member(group_id, thing, added_at) VALUES (?, ?, ?)")
            let hasClients = try c.scalar("SELECT 1 FROM client LIMIT 1") != nil
            while let line = reader.next() {
                let n = reader.lineNumber
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do {
                    let v = try JSONValue.parse(bytes: Array(line))
                    guard case .object = v else { throw FleetError.invalid("expected a JSON object") }
                    guard let name = v["thingName"]?.stringValue else { throw FleetError.invalid("thingName is missing or not a string") }
                    try Validation.name(name, "thingName")
                    var type: Int64? = nil
                    if let tn = v["thingTypeName"], !tn.isNull {
                        guard let typeName = tn.stringValue else { throw FleetError.invalid("thingTypeName must be a string") }
                        if let id = types[typeName] { type = id } else {
                            _ = try registry.createThingType(name: typeName, properties: nil, at: now)
                            type = try registry.typeID(typeName)
                            types[typeName] = type
                            summary.typesCreated += 1
                        }
                    }
                    let attrs = try v["attributes"].map { a throws(FleetError) in try Registry.attributes(a) } ?? []
                    let encoded = Registry.encodeAttributes(attrs)
                    try find.bind([.text(name)])
                    var existing: Int64? = nil
                    var oldAttributes: [(String, String)] = []
                    if try find.step() {
                        existing = find.int(0)
                        oldAttributes = Registry.decodeAttributes(find.text(1))
                    }
                    find.reset()
                    let id: Int64
                    if let existing {
                        try update.bind([type.map(SQLiteValue.integer) ?? .null, .text(encoded), .integer(existing)])
                        try update.step()
                        id = existing
                        try registry.indexAttributes(id, old: oldAttributes, new: attrs)
                        summary.updated += 1
                    } else {
                        try insert.bind([.text(name), .text(name.lowercased()), .text(FleetDatabase.uuid()),
                                         type.map(SQLiteValue.integer) ?? .null, .text(encoded), .integer(now)])
                        try insert.step()
                        id = c.lastInsertRowID
                        try registry.indexAttributes(id, old: [], new: attrs)
                        if hasClients { try registry.linkClient(thing: id, name: name) }
                        summary.created += 1
                    }
                    if let gs = v["thingGroupNames"], !gs.isNull {
                        guard let list = gs.arrayValue else { throw FleetError.invalid("thingGroupNames must be an array of names") }
                        for g in list {
                            guard let gname = g.stringValue else { throw FleetError.invalid("thingGroupNames must hold strings") }
                            let gid: Int64
                            if let known = groups[gname] { gid = known } else {
                                try Validation.name(gname, "thingGroupName")
                                if try registry.groupID(gname) != nil { throw FleetError.invalid("\(gname) is a dynamic thing group: its query decides its members") }
                                _ = try registry.createThingGroup(name: gname, parent: nil, properties: nil, at: now)
                                gid = try registry.groupID(gname)!
                                groups[gname] = gid
                                summary.groupsCreated += 1
                            }
                            if existing != nil, try c.scalar("SELECT 1 FROM thing_group_member WHERE group_id = ? AND thing = ?", [gid, id]) == nil {
                                try registry.makeRoom(thing: id, thingName: name, overrideDynamicGroups: false, at: now)
                            } else if existing == nil && list.count > 10 {
                                throw FleetError.limitExceeded("a thing can belong to at most 10 thing groups")
                            }
                            try member.bind([.integer(gid), .integer(id), .integer(now)])
                            try member.step()
                            added[gid, default: 0] += c.changes
                            try db.touch(id)
                        }
                    }
                    if let shadow = v["shadow"], !shadow.isNull {
                        guard case .object = shadow, let state = shadow["state"] else {
                            throw FleetError.invalid("shadow must be a shadow document {\"state\":{\"reported\":{...}}}")
                        }
                        _ = try registry.writeShadow(thing: id, name: "", state: state, at: now)
                    }
                    summary.lines += 1
                } catch let e as JSONError {
                    throw FleetError(.invalidRequest, "line \(n): malformed JSON: \(e)")
                } catch let e as FleetError {
                    throw FleetError(e.code, "line \(n): \(e.message)")
                }
            }
            for (gid, n) in added { try db.countMembers(n, group: gid) }
            for sql in deferred { try c.execute(script: sql) }
        }
        return summary
    }
}
