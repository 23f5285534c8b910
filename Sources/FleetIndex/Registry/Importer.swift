// FleetIndex: `import-things`: a JSON Lines file of things loaded in one transaction.
// Upserts, creates missing types and groups. A bad line is named and skipped (every good
// line is kept), or, atomic, any bad line keeps the whole file out. The journal stays WAL
// (readers go on); new things' index rows go in sorted, a chunk at a time, to pay for it.
import FleetQuery
import FleetSQLite

/// Bulk registry loading.
public struct Importer {
    public let db: FleetDatabase
    public init(_ db: FleetDatabase) { self.db = db }

    public struct Summary: Equatable {
        /// Lines imported.
        public var lines = 0
        public var created = 0
        /// Existing things the line changed (type, attributes, groups or shadow).
        public var updated = 0
        /// Existing things the line left as they were (their version too).
        public var unchanged = 0
        public var rejected = 0
        public var typesCreated = 0
        public var groupsCreated = 0
    }

    /// One line, parsed and checked against the model (nothing read from the database yet).
    struct Line {
        var name: String
        var typeName: String?
        var attributes: [(String, String)]
        var groups: [String]?
        var shadowState: JSONValue?
    }

    static func parse(_ bytes: [UInt8]) throws(FleetError) -> Line {
        let v: JSONValue
        do { v = try JSONValue.parse(bytes: bytes) } catch { throw .invalid("malformed JSON: \(error)") }
        guard case .object = v else { throw .invalid("expected a JSON object, found \(v.typeName)") }
        guard let name = v["thingName"]?.stringValue else { throw .invalid("thingName is missing or not a string") }
        try Validation.name(name, "thingName")
        var typeName: String? = nil
        if let tn = v["thingTypeName"], !tn.isNull {
            guard let t = tn.stringValue else { throw .invalid("thingTypeName must be a string") }
            try Validation.name(t, "thingTypeName")
            typeName = t
        }
        let attributes = try v["attributes"].map { a throws(FleetError) in try Registry.attributes(a) } ?? []
        var groups: [String]? = nil
        if let gs = v["thingGroupNames"], !gs.isNull {
            guard let list = gs.arrayValue else { throw .invalid("thingGroupNames must be an array of names") }
            var names: [String] = []
            for g in list {
                guard let gname = g.stringValue else { throw .invalid("thingGroupNames must hold strings") }
                try Validation.name(gname, "thingGroupName")
                if !names.contains(gname) { names.append(gname) }
            }
            guard names.count <= 10 else { throw .limitExceeded("a thing can belong to at most 10 thing groups, the line names \(names.count)") }
            groups = names
        }
        var shadowState: JSONValue? = nil
        if let shadow = v["shadow"], !shadow.isNull {
            guard case .object = shadow, let state = shadow["state"], state.isNull || state.objectValue != nil else {
                throw .invalid("shadow must be a shadow document {\"state\":{\"reported\":{...}}}")
            }
            shadowState = state
        }
        return Line(name: name, typeName: typeName, attributes: attributes, groups: groups, shadowState: shadowState)
    }

    /// Imports `{thingName, thingTypeName?, attributes?, thingGroupNames?, shadow?}` lines.
    /// Every bad line is reported to `rejected` with its number and reason. Not atomic, the
    /// good lines are imported and `rejected` counts the others; atomic, a bad line means
    /// nothing is imported and the error names the first. `progress` gets the lines read now
    /// and then. Re-importing a thing as it is leaves it (and its version) alone.
    public func importThings(_ reader: LineReader, atomic: Bool = true, at now: Int64,
                             rejected: (Int, String) -> Void = { _, _ in },
                             progress: ((Int) -> Void)? = nil) throws -> Summary {
        let writer = try ThingImportWriter(db)
        let registry = Registry(db)
        var summary = Summary()
        var firstRejection: (Int, String)? = nil
        // Types, static groups and whether the registry is empty are read inside the import's
        // transaction, under the write lock: read before it, a type another process deleted
        // meanwhile would be written into things (PostgreSQL keeps no key from thing to type).
        var types: [String: Int64] = [:]
        var groups: [String: Int64] = [:]
        // A bulk load into an empty registry builds the secondary indexes once at the end
        // (sorting beats a random insert per row), with a larger page cache meanwhile. The
        // journal stays WAL: readers keep reading the last committed state all along.
        try db.metaStore.growCacheForBulk()
        defer { db.metaStore.restoreCacheSize() }
        func reject(_ n: Int, _ reason: String) {
            summary.rejected += 1
            if firstRejection == nil { firstRejection = (n, reason) }
            rejected(n, reason)
        }
        // Work that needs a thing's row: at once, or once the writer has stored the row (the
        // error, if any, then names the line).
        func later(_ n: Int, _ thing: Int64, _ work: @escaping () throws -> Void) throws {
            guard writer.holds(thing) else { return try work() }
            writer.whenStored(thing) { try Self.atLine(n, work) }
        }
        try db.transaction {
            types = try writer.typeIDs()
            groups = try writer.staticGroupIDs()
            let empty = try writer.registryIsEmpty()
            var deferred: [String] = []
            var added: [Int64: Int] = [:]
            if empty { deferred = try writer.dropThingIndexes() }
            try writer.begin()
            let hasClients = try writer.hasClients()
            // New things' attribute rows are written in key order, a chunk at a time: each
            // chunk then sweeps the index tables once instead of landing all over them.
            var pending = PendingRows()
            var read = 0
            // Lines are read and parsed a batch at a time; the writer looks the batch's things
            // up at once (PostgreSQL) and writes what it holds when the batch ends.
            var batch: [(n: Int, line: Result<Line, FleetError>)] = []
            var moreLines = true
            while moreLines {
                batch.removeAll(keepingCapacity: true)
                while batch.count < writer.batchLines {
                    guard let bytes = reader.next() else { moreLines = false; break }
                    let n = reader.lineNumber
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    read += 1
                    if let progress, read & 1023 == 0 { progress(read) }
                    do throws(FleetError) { batch.append((n, .success(try Self.parse(Array(bytes))))) } catch { batch.append((n, .failure(error))) }
                }
                if writer.batchLines > 1 { try writer.prefetch(names: batch.compactMap { try? $0.line.get().name }) }
                for (n, parsed) in batch {
                    // Everything that can make a line bad is checked before it writes anything.
                    let line: Line
                    switch parsed {
                    case .success(let l): line = l
                    case .failure(let e): reject(n, e.message); continue
                    }
                    let existing = try writer.thing(named: line.name)
                    // A thing seen earlier in this file: its rows are written before they are replaced.
                    if let existing, writer.holds(existing.id) { try writer.flush() }
                    if let existing, pending.things.contains(existing.id) { try pending.write(writer) }
                    var newGroups: [String] = []
                    if let names = line.groups {
                        do {
                            for gname in names {
                                guard let gid = groups[gname] else {
                                    if try registry.groupID(gname) != nil { throw FleetError.invalid("\(gname) is a dynamic thing group: its query decides its members") }
                                    newGroups.append(gname)
                                    continue
                                }
                                if let existing, try writer.isMember(group: gid, thing: existing.id) { continue }
                                newGroups.append(gname)
                            }
                            if let existing, !newGroups.isEmpty {
                                let count = try writer.membershipCount(of: existing.id)
                                if count + Int64(newGroups.count) > 10 {
                                    throw FleetError.limitExceeded("Thing \(line.name) is already in \(count) thing groups; with \(newGroups.count) more it would pass 10, the most a thing can belong to")
                                }
                            }
                        } catch let e as FleetError {
                            reject(n, e.message)
                            continue
                        }
                    }
                    // The line is good: write it (a failure now is the database's, and ends the import).
                    do {
                        var type: Int64? = nil
                        if let typeName = line.typeName {
                            if let id = types[typeName] { type = id } else {
                                _ = try registry.createThingType(name: typeName, properties: nil, at: now)
                                type = try registry.typeID(typeName)
                                types[typeName] = type
                                summary.typesCreated += 1
                            }
                        }
                        let encoded = Registry.encodeAttributes(line.attributes)
                        let id: Int64
                        var changed = false
                        if let existing {
                            id = existing.id
                            if existing.type != type || existing.storedAttributes != encoded {
                                try writer.updateThing(id, name: line.name, type: type, attributes: encoded)
                                try registry.indexAttributes(id, old: Registry.decodeAttributes(existing.storedAttributes), new: line.attributes)
                                changed = true
                            }
                        } else {
                            id = try writer.insertThing(name: line.name, thingId: FleetDatabase.uuid(), type: type, attributes: encoded, at: now)
                            pending.add(id, FieldIndexer.attributes(line.attributes))
                            try writer.touch(id)
                            if pending.count >= writer.pendingRowLimit { try pending.write(writer) }
                            if hasClients {
                                let name = line.name
                                try later(n, id) { try registry.linkClient(thing: id, name: name) }
                            }
                        }
                        for gname in newGroups {
                            let gid: Int64
                            if let known = groups[gname] { gid = known } else {
                                _ = try registry.createThingGroup(name: gname, parent: nil, properties: nil, at: now)
                                gid = try registry.groupID(gname)!
                                groups[gname] = gid
                                summary.groupsCreated += 1
                            }
                            let n = try writer.addMember(group: gid, thing: id, at: now)
                            added[gid, default: 0] += n
                            if n > 0 { changed = true }
                            try writer.touch(id)
                        }
                        if let state = line.shadowState, try shadowChanges(thing: existing == nil ? nil : id, state: state) {
                            if existing == nil, writer.holds(id) {
                                // A new thing the batch writes: its shadow goes with it.
                                try writer.holdShadow(thing: id, registry.firstClassicShadow(state: state), at: now)
                            } else {
                                try later(n, id) { _ = try registry.writeShadow(thing: id, name: "", state: state, at: now) }
                            }
                            changed = true
                        }
                        if existing == nil { summary.created += 1 } else if changed { summary.updated += 1 } else { summary.unchanged += 1 }
                        summary.lines += 1
                    } catch let e as FleetError {
                        throw FleetError(e.code, "line \(n): \(e.message)")
                    }
                }
                try writer.endBatch()
            }
            try pending.write(writer)
            progress?(read)
            if atomic, let (n, reason) = firstRejection {
                let more = summary.rejected - 1
                throw FleetError(.invalidRequest, "line \(n): \(reason)"
                    + (more > 0 ? "; \(more) more line\(more == 1 ? "" : "s") rejected" : "")
                    + "; nothing was imported (atomic)")
            }
            for (gid, n) in added { try db.countMembers(n, group: gid) }
            try writer.restoreIndexes(deferred)
        }
        return summary
    }

    /// Runs the writes of line `n` whose failure is the database's, naming the line.
    static func atLine(_ n: Int, _ work: () throws -> Void) throws {
        do { try work() } catch let e as FleetError { throw FleetError(e.code, "line \(n): \(e.message)") }
    }

    /// Index rows of new things, held to be inserted sorted by key (field, value, thing).
    struct PendingRows {
        var fields: [String] = []
        var fieldIDs: [String: Int] = [:]
        var text: [(field: Int, value: String, thing: Int64)] = []
        var number: [(field: Int, value: Double, thing: Int64)] = []
        var things: Set<Int64> = []
        var count: Int { text.count + number.count }

        mutating func add(_ thing: Int64, _ values: [FieldValue]) {
            guard !values.isEmpty else { return }
            things.insert(thing)
            for v in values {
                let f: Int
                if let known = fieldIDs[v.field] { f = known } else {
                    f = fields.count
                    fields.append(v.field)
                    fieldIDs[v.field] = f
                }
                if let s = v.lower { text.append((f, s, thing)) }
                if let n = v.num, n.isFinite { number.append((f, n, thing)) }
            }
        }

        mutating func write(_ writer: ThingImportWriter) throws {
            guard !things.isEmpty else { return }
            // The order only has to be close to the tables' (String's < is byte order for ASCII).
            var rank = [Int](repeating: 0, count: fields.count)
            for (r, f) in fields.indices.sorted(by: { fields[$0] < fields[$1] }).enumerated() { rank[f] = r }
            text.sort { rank[$0.field] != rank[$1.field] ? rank[$0.field] < rank[$1.field] : $0.value != $1.value ? $0.value < $1.value : $0.thing < $1.thing }
            number.sort { rank[$0.field] != rank[$1.field] ? rank[$0.field] < rank[$1.field] : $0.value != $1.value ? $0.value < $1.value : $0.thing < $1.thing }
            try writer.insertIndexRows(fields: fields, text: text, number: number)
            text.removeAll(keepingCapacity: true)
            number.removeAll(keepingCapacity: true)
            things.removeAll(keepingCapacity: true)
        }
    }

    /// Whether writing `state` into a thing's classic shadow changes it (a new thing's always does).
    func shadowChanges(thing: Int64?, state: JSONValue) throws -> Bool {
        guard let thing else { return true }
        guard let old = try db.shadows.shadow(thing: thing, name: "")?.document else { return true }
        let reported = old["state"]?["reported"], desired = old["state"]?["desired"]
        if state.isNull { return reported != nil || desired != nil }
        if let r = state["reported"], (r.isNull ? nil : ShadowState.merge(reported, r)) != reported { return true }
        if let d = state["desired"], (d.isNull ? nil : ShadowState.merge(desired, d)) != desired { return true }
        return false
    }
}
