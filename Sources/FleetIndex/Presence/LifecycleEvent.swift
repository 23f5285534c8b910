// FleetIndex: one AWS IoT lifecycle event (connected, disconnected, connect_failed) as
// AWS publishes it on $aws/events/presence/..., parsed and checked; the subscription events
// of the same stream ($aws/events/subscriptions/...) are recognized and ignored.

/// A lifecycle (presence) event.
public struct LifecycleEvent: Equatable, Sendable {
    public enum Kind: Int64, Sendable { case connected = 0, disconnected = 1, connectFailed = 2
        public var name: String { ["connected", "disconnected", "connect_failed"][Int(rawValue)] }
    }
    public var clientId: String
    public var timestamp: Int64
    public var kind: Kind
    public var session: String
    public var version: Int64
    public var principal: String?
    public var ip: String?
    /// disconnectReason (disconnected) or connectFailureReason (connect_failed).
    public var reason: String?
    public var clientInitiated: Bool?

    public init(clientId: String, timestamp: Int64, kind: Kind, session: String, version: Int64,
                principal: String? = nil, ip: String? = nil, reason: String? = nil, clientInitiated: Bool? = nil) {
        self.clientId = clientId
        self.timestamp = timestamp
        self.kind = kind
        self.session = session
        self.version = version
        self.principal = principal
        self.ip = ip
        self.reason = reason
        self.clientInitiated = clientInitiated
    }

    /// AWS's disconnectReason values.
    public static let disconnectReasons: Set<String> = [
        "AUTH_ERROR", "CLIENT_INITIATED_DISCONNECT", "CLIENT_ERROR", "CONNECTION_LOST", "DUPLICATE_CLIENTID",
        "FORBIDDEN_ACCESS", "MQTT_KEEP_ALIVE_TIMEOUT", "SERVER_ERROR", "SERVER_INITIATED_DISCONNECT",
        "API_INITIATED_DISCONNECT", "THROTTLED", "WEBSOCKET_TTL_EXPIRATION", "CUSTOMAUTH_TTL_EXPIRATION",
    ]

    /// The event types of `$aws/events/#` that carry nothing about connectivity (the
    /// subscription events): counted as ignored, not rejected.
    public static let ignoredEventTypes: Set<String> = ["subscribed", "unsubscribed"]

    /// The timestamps accepted: 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, the
    /// window of the command line's `--at` (old events are fine: replays send them).
    public static let timestampRange = Timestamp.range

    /// AWS IoT's limit on a client id: 128 bytes of UTF-8.
    public static let maxClientIdBytes = 128

    /// fleetdex's limit on a sessionIdentifier and a connectFailureReason, in bytes of UTF-8
    /// (AWS sends a UUID and a short code; it documents no limit). Both are stored in the
    /// history's key index on PostgreSQL, whose entries must stay under about 2.7 KB, so a
    /// longer one is a bad line, named, on every backend, instead of failing its batch there.
    public static let maxSessionOrReasonBytes = 256

    /// Parses a payload, or a `{"topic":..., "payload":{...}}` envelope. An event of a type
    /// presence ignores (`subscribed`, `unsubscribed`) is an error here; `decode` returns nil for it.
    public static func parse(_ v: JSONValue) throws(FleetError) -> LifecycleEvent {
        guard let e = try decode(v) else {
            throw .invalid("eventType '\(payload(of: v)["eventType"]?.stringValue ?? "")' carries no connectivity")
        }
        return e
    }

    static func payload(of v: JSONValue) -> JSONValue {
        if case .object = v, v["clientId"] == nil, let inner = v["payload"] {
            if case .string(let text) = inner { return (try? JSONValue.parse(text)) ?? inner }
            return inner
        }
        return v
    }

    /// One line of a lifecycle stream, as bytes: nil for an event presence ignores. The bytes
    /// must be UTF-8 (a client id with invalid bytes would otherwise be read with U+FFFD in
    /// their place, and distinct clients would merge).
    public static func decode(line: some Collection<UInt8>) throws(FleetError) -> LifecycleEvent? {
        let bytes = Array(line)
        if bytes.contains(where: { $0 >= 0x80 }), String(validating: bytes, as: UTF8.self) == nil {
            throw .invalid("the line is not valid UTF-8")
        }
        let v: JSONValue
        do { v = try JSONValue.parse(bytes: bytes) } catch { throw .invalid("malformed JSON: \(error)") }
        return try decode(v)
    }

    /// Parses a payload or an envelope: nil for an event of a type presence ignores.
    public static func decode(_ v: JSONValue) throws(FleetError) -> LifecycleEvent? {
        var p = v
        if case .object = v, v["clientId"] == nil, let inner = v["payload"] {
            if case .string(let text) = inner {
                do { p = try JSONValue.parse(text) } catch { throw .invalid("the envelope's payload is not valid JSON: \(error)") }
            } else {
                p = inner
            }
        }
        guard case .object = p else { throw .invalid("expected a JSON object, found \(p.typeName)") }
        guard let typeName = p["eventType"]?.stringValue else { throw .invalid("eventType is missing") }
        if ignoredEventTypes.contains(typeName) { return nil }
        guard let clientId = p["clientId"]?.stringValue, !clientId.isEmpty else { throw .invalid("clientId is missing or not a string") }
        guard clientId.utf8.count <= maxClientIdBytes else {
            throw .invalid("clientId is \(clientId.utf8.count) bytes long; AWS IoT allows at most \(maxClientIdBytes)")
        }
        guard !clientId.utf8.contains(0) else { throw .invalid("clientId contains U+0000") }
        guard let tsValue = p["timestamp"] else { throw .invalid("timestamp is missing or not a number (epoch ms)") }
        guard let ts = integer(tsValue) else { throw .invalid("timestamp must be an integer (epoch milliseconds), got \(tsValue.compact)") }
        guard timestampRange.contains(ts) else {
            throw .invalid("timestamp \(ts) is outside 1970-01-01T00:00:00Z...9999-12-31T23:59:59.999Z")
        }
        let kind: Kind
        switch typeName {
        case "connected": kind = .connected
        case "disconnected": kind = .disconnected
        case "connect_failed": kind = .connectFailed
        default: throw .invalid("unknown eventType '\(typeName)' (expected connected, disconnected, connect_failed, subscribed or unsubscribed)")
        }
        /// A sessionIdentifier or connectFailureReason within maxSessionOrReasonBytes.
        func bounded(_ member: String, _ value: String?) throws(FleetError) -> String? {
            guard let value, value.utf8.count > maxSessionOrReasonBytes else { return value }
            throw .invalid("\(member) is \(value.utf8.count) bytes long; fleetdex allows at most \(maxSessionOrReasonBytes)")
        }
        let session = try bounded("sessionIdentifier", p["sessionIdentifier"]?.stringValue)
        var version: Int64? = nil
        if let vn = p["versionNumber"], !vn.isNull {
            guard let n = integer(vn), n >= 0 else { throw .invalid("versionNumber must be an integer >= 0, got \(vn.compact)") }
            version = n
        }
        if kind != .connectFailed {
            guard session != nil else { throw .invalid("sessionIdentifier is missing") }
            guard version != nil else { throw .invalid("versionNumber is missing or not a whole number") }
        }
        var reason: String? = nil
        if kind == .disconnected {
            guard let r = p["disconnectReason"]?.stringValue else { throw .invalid("disconnectReason is missing") }
            guard disconnectReasons.contains(r) else { throw .invalid("'\(r)' is not an AWS disconnectReason") }
            reason = r
        } else if kind == .connectFailed {
            reason = try bounded("connectFailureReason", p["connectFailureReason"]?.stringValue ?? p["failureReason"]?.stringValue)
        }
        return LifecycleEvent(clientId: clientId, timestamp: ts, kind: kind, session: session ?? "", version: version ?? 0,
                              principal: p["principalIdentifier"]?.stringValue, ip: p["ipAddress"]?.stringValue,
                              reason: reason, clientInitiated: p["clientInitiatedDisconnect"]?.boolValue)
    }

    /// The value of a JSON number written as an integer (`1795163746466`, `-3`) that fits in
    /// 64 bits, else nil: AWS publishes `timestamp` and `versionNumber` as longs, so `1.5e12`
    /// and `1796112600000.5` are not read as (truncated) integers.
    static func integer(_ v: JSONValue) -> Int64? {
        guard case .number(let text) = v else { return nil }
        return Int64(text)
    }

    /// The payload exactly as AWS would publish it.
    public var payload: JSONValue {
        jsonObject([
            ("clientId", .string(clientId)),
            ("timestamp", .int(timestamp)),
            ("eventType", .string(kind.name)),
            ("sessionIdentifier", .string(session)),
            ("principalIdentifier", principal.map(JSONValue.string)),
            ("ipAddress", kind == .connected || kind == .connectFailed ? ip.map(JSONValue.string) : nil),
            ("clientInitiatedDisconnect", kind == .disconnected ? .bool(clientInitiated ?? (reason == "CLIENT_INITIATED_DISCONNECT")) : nil),
            ("disconnectReason", kind == .disconnected ? reason.map(JSONValue.string) : nil),
            ("connectFailureReason", kind == .connectFailed ? reason.map(JSONValue.string) : nil),
            ("versionNumber", kind == .connectFailed ? nil : .int(version)),
        ])
    }
}

/// The connect/disconnect event that decides connectivity, and the order between two of them.
public struct PresenceMark: Equatable, Sendable {
    public var timestamp: Int64
    public var kind: LifecycleEvent.Kind
    public var session: String
    public var version: Int64
    public var reason: String?

    public init(timestamp: Int64, kind: LifecycleEvent.Kind, session: String, version: Int64, reason: String?) {
        self.timestamp = timestamp
        self.kind = kind
        self.session = session
        self.version = version
        self.reason = reason
    }

    /// semantics.md §1: same session → version, then disconnect over connect, then time;
    /// other sessions under an hour apart → version, then time; an hour or more → time.
    public func isNewer(than b: PresenceMark) -> Bool {
        if session == b.session {
            if version != b.version { return version > b.version }
            if kind != b.kind { return kind == .disconnected }
            return timestamp > b.timestamp
        }
        // Stored marks may come from before intake bounded timestamps: no overflow.
        let (gap, overflow) = timestamp.subtractingReportingOverflow(b.timestamp)
        if !overflow && gap.magnitude < 3_600_000 {
            if version != b.version { return version > b.version }
        }
        return timestamp > b.timestamp
    }

    public var connected: Bool { kind == .connected }
}
