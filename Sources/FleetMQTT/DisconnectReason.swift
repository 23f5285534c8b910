// FleetMQTT: why a connection ended, as AWS IoT Core names it in a `disconnected` event's
// `disconnectReason`, and whether AWS sends the Last Will for it (the table of AWS IoT's
// lifecycle-event documentation).

public enum DisconnectReason: String, Sendable, CaseIterable {
    case authError = "AUTH_ERROR"
    case clientInitiated = "CLIENT_INITIATED_DISCONNECT"
    case clientError = "CLIENT_ERROR"
    case connectionLost = "CONNECTION_LOST"
    case duplicateClientId = "DUPLICATE_CLIENTID"
    case forbiddenAccess = "FORBIDDEN_ACCESS"
    case keepAliveTimeout = "MQTT_KEEP_ALIVE_TIMEOUT"
    case serverError = "SERVER_ERROR"
    case serverInitiated = "SERVER_INITIATED_DISCONNECT"

    /// Every reason but a clean DISCONNECT sends the will.
    public var sendsWill: Bool { self != .clientInitiated }

    /// The MQTT 5 DISCONNECT reason code the server sends before closing, if it sends one.
    var serverDisconnectCode: UInt8? {
        switch self {
        case .duplicateClientId: 0x8E      // session taken over
        case .serverInitiated: 0x8B        // server shutting down
        case .keepAliveTimeout: 0x8D       // keep alive timeout
        case .authError, .forbiddenAccess: 0x87
        case .serverError: 0x83
        case .clientError, .clientInitiated, .connectionLost: nil
        }
    }
}
