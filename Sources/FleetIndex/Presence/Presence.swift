// FleetIndex: presence: lifecycle events in, connectivity out. Every event is kept in the
// history (duplicates are recognized by their key); the newest event of each client decides
// its connectivity, so the final state does not depend on arrival order.
import FleetSQLite

/// Lifecycle event ingestion and the connectivity index.
public struct Presence {
    public let db: FleetDatabase
    var store: PresenceStore { db.presence }
    public init(_ db: FleetDatabase) { self.db = db }

    public enum Outcome: Equatable { case accepted, duplicate, stale }

    /// Counts of one ingest run.
    public struct Summary: Equatable, Sendable {
        public var accepted = 0
        public var duplicate = 0
        public var stale = 0
        public var rejected = 0
        /// Events of the stream that carry no connectivity (`subscribed`, `unsubscribed`).
        public var ignored = 0
        public init() {}
        public mutating func add(_ o: Outcome) {
            switch o {
            case .accepted: accepted += 1
            case .duplicate: duplicate += 1
            case .stale: stale += 1
            }
        }
    }

    struct ClientRow {
        var id: Int64
        var thing: Int64?
        var mark: PresenceMark?
        var maxTs: Int64?
        var dirty = false
        var markChanged = false
    }

    /// The rows of the clients `ids` (each named once), registering the ones never seen, in
    /// the order of `ids` (the order new clients are numbered in).
    func clientRows(_ ids: [String]) throws -> [String: ClientRow] {
        let (stored, added) = try store.clientRecords(ids)
        var rows: [String: ClientRow] = [:]
        rows.reserveCapacity(ids.count)
        for (id, r) in [stored, added].joined() { rows[id] = ClientRow(id: r.id, thing: r.thing, mark: r.mark, maxTs: r.maxTs) }
        if let missing = ids.first(where: { rows[$0] == nil }) {
            throw FleetError(.internalFailure, "client \(missing) was neither stored nor registered")
        }
        return rows
    }

    /// The current connectivity mark of a client (nil when it has none; an unknown client is
    /// registered).
    func mark(_ clientId: String) throws -> PresenceMark? {
        try clientRows([clientId])[clientId]?.mark
    }

    /// The versionNumber of a client's newest stored connect or disconnect (nil: none), so an
    /// endpoint that restarts numbers the client's next session after it, as AWS does.
    public func lastVersion(clientId: String) throws -> Int64? {
        try store.client(clientId)?.mark?.version
    }

    /// Ingests one event on its own (inside the caller's transaction).
    public func ingest(_ e: LifecycleEvent) throws -> Outcome {
        try ingest(batch: [e])[0]
    }

    /// The order new clients of a batch are registered (and numbered) in.
    enum ClientOrder {
        /// By client id (a file's batch: the lookups and inserts walk the index in order).
        case sorted
        /// As their first events arrived (the runner's intake, as one event after another).
        case arrival
    }

    /// Ingests a batch of events (inside the caller's transaction): the outcome of each, and
    /// the state after, are what ingesting them one after another in this order gives. The
    /// store does it in a few statements for the whole batch: the clients looked up and the
    /// new ones registered, the events stored (each learning whether it was new), the
    /// newest mark of each client decided here, and the clients and their things written back.
    func ingest(batch events: [LifecycleEvent], clientOrder: ClientOrder = .arrival) throws -> [Outcome] {
        guard !events.isEmpty else { return [] }
        var ids: [String] = []
        var seen = Set<String>()
        seen.reserveCapacity(events.count)
        for e in events where seen.insert(e.clientId).inserted { ids.append(e.clientId) }
        if clientOrder == .sorted { ids.sort() }
        var rows = try clientRows(ids)
        let isNew = try store.insertEvents(events.map { (client: rows[$0.clientId]!.id, event: $0) })
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(events.count)
        for (e, new) in zip(events, isNew) { outcomes.append(Self.apply(e, new: new, to: &rows[e.clientId]!)) }
        try flush(rows.values)
        return outcomes
    }

    /// Ingests a batch of events in a write transaction of its own, committed (rolled back
    /// whole on an error). On PostgreSQL it shares the write lock with the other batches in
    /// flight (`StoreConnection.beginIngest`) and locks its clients' rows
    /// (`PresenceStore.clientRecords`).
    func ingestCommitted(batch events: [LifecycleEvent], clientOrder: ClientOrder = .arrival) throws -> [Outcome] {
        guard !events.isEmpty else { return [] }
        try db.beginIngest()
        do {
            let outcomes = try ingest(batch: events, clientOrder: clientOrder)
            try db.commit()
            return outcomes
        } catch {
            db.rollback()
            throw error
        }
    }

    /// What one stored (`new`) or duplicate event does to its client's row.
    static func apply(_ e: LifecycleEvent, new: Bool, to row: inout ClientRow) -> Outcome {
        if !new { return .duplicate }
        row.maxTs = max(row.maxTs ?? e.timestamp, e.timestamp)
        row.dirty = true
        if e.kind == .connectFailed { return .accepted }
        let mark = PresenceMark(timestamp: e.timestamp, kind: e.kind, session: e.session, version: e.version, reason: e.reason)
        if let current = row.mark, !mark.isNewer(than: current) { return .stale }
        row.mark = mark
        row.markChanged = true
        return .accepted
    }

    /// Writes the batch's changed clients (and their things' connectivity) back.
    func flush(_ rows: some Collection<ClientRow>) throws {
        // In key order: the updates then sweep the client and thing tables (and their indexes)
        // instead of jumping around them (20% faster at a million things).
        let updates = rows.filter(\.dirty).sorted(by: { $0.id < $1.id }).map {
            PresenceStore.ConnectivityUpdate(client: $0.id, thing: $0.thing, mark: $0.markChanged ? $0.mark : nil, maxTs: $0.maxTs)
        }
        try db.touch(try store.write(updates))
    }

    /// Ingests a stream of JSON Lines (or one JSON array), committing every `batch` events
    /// so that an event counted as accepted is on disk. `rejected` is called for each bad line,
    /// `progress` now and then with the lines read so far.
    ///
    /// The write lock is held only while a parsed batch is applied: the next batch is read
    /// and parsed outside it (other writers get in between), and when the input is a pipe
    /// that has nothing more to give yet, what was read is committed instead of waited on.
    public func ingest(_ reader: LineReader, batch: Int = 5000, rejected: (Int, String) -> Void,
                       progress: ((Int) -> Void)? = nil) throws -> Summary {
        try withoutActuallyEscaping(rejected) { rejected in
            try ingest(reader, batch: batch, escapingRejected: rejected, progress: progress)
        }
    }

    private func ingest(_ reader: LineReader, batch: Int, escapingRejected rejected: @escaping (Int, String) -> Void,
                        progress: ((Int) -> Void)?) throws -> Summary {
        var summary = Summary()
        var linesRead = 0
        // Updates land all over the client and thing tables: give SQLite a page cache that holds them.
        try db.metaStore.growCacheForBulk()
        defer { db.metaStore.restoreCacheSize() }
        // A batch is parsed first, then applied whole (`ingest(batch:)`): its clients are looked
        // up in key order, then its events stored in arrival order, then its clients written
        // back: each phase walks one index instead of alternating.
        var parsed: [LifecycleEvent] = []
        parsed.reserveCapacity(min(batch, 100_000))
        func commit() throws {
            guard !parsed.isEmpty else { return }
            for o in try ingestCommitted(batch: parsed, clientOrder: .sorted) { summary.add(o) }
            parsed.removeAll(keepingCapacity: true)
        }
        func take(_ decoded: Result<LifecycleEvent?, FleetError>, _ n: Int) throws {
            linesRead += 1
            if let progress, linesRead & 1023 == 0 { progress(linesRead) }
            switch decoded {
            case .success(nil): summary.ignored += 1
            case .success(let e?):
                parsed.append(e)
                if parsed.count >= batch { try commit() }
            case .failure(let err):
                summary.rejected += 1
                rejected(n, err.message)
            }
        }
        // A pipe with nothing more yet: commit what was read instead of holding it (and the
        // lock the next batch would take) until the pipe delivers.
        var waitError: Error? = nil
        reader.willWait = {
            do { try commit() } catch { if waitError == nil { waitError = error } }
        }
        defer { reader.willWait = nil }
        func blank(_ line: ArraySlice<UInt8>) -> Bool { line.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
        func validUTF8(_ b: [UInt8]) -> Bool { !b.contains(where: { $0 >= 0x80 }) || String(validating: b, as: UTF8.self) != nil }
        // One JSON array only when the whole input is one: a line of JSON Lines may start with
        // `[` too, and the lines after it are then read as lines.
        var array: [JSONValue]? = nil
        var arrayIsUTF8 = true
        var firstLine: (bytes: [UInt8], number: Int)? = nil
        if reader.peekFirstByte() == UInt8(ascii: "[") {
            var line = reader.next()
            while let l = line, blank(l) { line = reader.next() }
            if let line {
                let bytes = Array(line), n = reader.lineNumber
                let alone = try? JSONValue.parse(bytes: bytes)
                if reader.peekFirstByte() == nil, case .array(let items)? = alone {
                    array = items
                    arrayIsUTF8 = validUTF8(bytes)
                } else if alone != nil || reader.peekFirstByte() == nil {
                    firstLine = (bytes, n)
                } else {
                    let all = bytes + [0x0A] + reader.readAll()
                    if case .array(let items)? = try? JSONValue.parse(bytes: all) {
                        array = items
                        arrayIsUTF8 = validUTF8(all)
                    } else {
                        reader.reread(all, after: n - 1)
                    }
                }
            }
        }
        if let array {
            for (i, v) in array.enumerated() {
                // Invalid UTF-8 somewhere in the array: an element holding U+FFFD may be where it was.
                if !arrayIsUTF8, v.compact.contains("\u{FFFD}") {
                    try take(.failure(.invalid("the element is not valid UTF-8")), i + 1)
                    continue
                }
                try take(Result { () throws(FleetError) -> LifecycleEvent? in try LifecycleEvent.decode(v) }, i + 1)
            }
        } else {
            if let (bytes, n) = firstLine {
                try take(Result { () throws(FleetError) -> LifecycleEvent? in try LifecycleEvent.decode(line: bytes) }, n)
            }
            while let line = reader.next() {
                if let waitError { throw waitError }
                if blank(line) { continue }
                try take(Result { () throws(FleetError) -> LifecycleEvent? in try LifecycleEvent.decode(line: line) }, reader.lineNumber)
            }
        }
        if let waitError { throw waitError }
        try commit()
        progress?(linesRead)
        return summary
    }

    /// A simulated device's connect: the payload AWS would publish, ingested as any other.
    public func simulateConnect(thingName: String, clientId: String?, ip: String?, at now: Int64) throws -> (LifecycleEvent, Outcome) {
        try db.transaction {
            let cid = clientId ?? thingName
            let last = try mark(cid)
            // A new session; the version goes up, or back to 0 after an hour offline.
            let version: Int64
            if let last { version = (now - last.timestamp >= 3_600_000 && !last.connected) ? 0 : last.version + 1 } else { version = 1 }
            let e = LifecycleEvent(clientId: cid, timestamp: now, kind: .connected, session: FleetDatabase.uuid(), version: version,
                                   principal: Presence.principal(for: cid), ip: ip ?? "203.0.113.10")
            return (e, try ingest(e))
        }
    }

    /// A simulated device's disconnect of its current session.
    public func simulateDisconnect(thingName: String, clientId: String?, reason: String, at now: Int64) throws -> (LifecycleEvent, Outcome) {
        guard LifecycleEvent.disconnectReasons.contains(reason) else { throw FleetError.invalid("'\(reason)' is not an AWS disconnectReason") }
        return try db.transaction {
            let cid = clientId ?? thingName
            guard let last = try mark(cid), last.connected else {
                throw FleetError.invalid("\(cid) is not connected: connect it first")
            }
            let e = LifecycleEvent(clientId: cid, timestamp: now, kind: .disconnected, session: last.session, version: last.version,
                                   principal: Presence.principal(for: cid), reason: reason,
                                   clientInitiated: reason == "CLIENT_INITIATED_DISCONNECT")
            return (e, try ingest(e))
        }
    }

    static func principal(for clientId: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in clientId.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        var out = ""
        for i in 0..<4 {
            let x = h &* UInt64(i * 2 + 1) &+ UInt64(i)
            let s = String(x, radix: 16)
            out += String(repeating: "0", count: 16 - s.count) + s
        }
        return out
    }
}
