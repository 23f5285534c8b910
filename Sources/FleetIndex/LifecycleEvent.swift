// FleetIndex: one AWS IoT lifecycle event (connected, disconnected, connect_failed) as
// AWS publishes it on $aws/events/presence/..., parsed and checked.

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

    /// Parses a payload, or a `{"topic":..., "payload":{...}}` envelope.
    public static func parse(_ v: JSONValue) throws(FleetError) -> LifecycleEvent {
        var p = v
        if case .object = v, v["clientId"] == nil, let inner = v["payload"] {
            if case .string(let text) = inner {
                do { p = try JSONValue.parse(text) } catch { throw .invalid("the envelope's payload is not valid JSON: \(error)") }
            } else {
                p = inner
            }
        }
        guard case .object = p else { throw .invalid("expected a JSON object, found \(p.typeName)") }
        guard let clientId = p["clientId"]?.stringValue, !clientId.isEmpty else { throw .invalid("clientId is missing or not a string") }
        guard let ts = p["timestamp"]?.int64Value else { throw .invalid("timestamp is missing or not a number (epoch ms)") }
        guard let typeName = p["eventType"]?.stringValue else { throw .invalid("eventType is missing") }
        let kind: Kind
        switch typeName {
        case "connected": kind = .connected
        case "disconnected": kind = .disconnected
        case "connect_failed": kind = .connectFailed
        default: throw .invalid("unknown eventType '\(typeName)' (expected connected, disconnected or connect_failed)")
        }
        let session = p["sessionIdentifier"]?.stringValue
        let version = p["versionNumber"]?.int64Value
        if kind != .connectFailed {
            guard session != nil else { throw .invalid("sessionIdentifier is missing") }
            guard let version, version >= 0 else { throw .invalid("versionNumber is missing or not a whole number") }
        }
        var reason: String? = nil
        if kind == .disconnected {
            guard let r = p["disconnectReason"]?.stringValue else { throw .invalid("disconnectReason is missing") }
            guard disconnectReasons.contains(r) else { throw .invalid("'\(r)' is not an AWS disconnectReason") }
            reason = r
        } else if kind == .connectFailed {
            reason = p["connectFailureReason"]?.stringValue ?? p["failureReason"]?.stringValue
        }
        return LifecycleEvent(clientId: clientId, timestamp: ts, kind: kind, session: session ?? "", version: version ?? 0,
                              principal: p["principalIdentifier"]?.stringValue, ip: p["ipAddress"]?.stringValue,
                              reason: reason, clientInitiated: p["clientInitiatedDisconnect"]?.boolValue)
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
        if abs(timestamp - b.timestamp) < 3_600_000 {
            if version != b.version { return version > b.version }
        }
        return timestamp > b.timestamp
    }

    public var connected: Bool { kind == .connected }
}
