// FleetMQTT codec: the MQTT control packets fleetdex reads and writes, as values. MQTT 3.1.1
// (protocol level 4) and MQTT 5 (level 5) share one shape; the v5-only parts (reason codes,
// properties) are empty for 3.1.1. Pure Swift: no NIO, no Foundation (the fuzzer compiles it).

/// The protocol level of a connection.
public enum MQTTVersion: UInt8, Sendable, Equatable {
    case v311 = 4
    case v5 = 5
}

/// One MQTT control packet.
public enum MQTTPacket: Equatable, Sendable {
    case connect(Connect)
    case connack(ConnAck)
    case publish(Publish)
    case puback(Ack)
    case subscribe(Subscribe)
    case suback(SubAck)
    case unsubscribe(Unsubscribe)
    case unsuback(SubAck)
    case pingreq
    case pingresp
    case disconnect(Disconnect)

    public struct Will: Equatable, Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: UInt8
        public var retain: Bool
        public var properties: [MQTTProperty]
        public init(topic: String, payload: [UInt8], qos: UInt8 = 0, retain: Bool = false, properties: [MQTTProperty] = []) {
            self.topic = topic; self.payload = payload; self.qos = qos; self.retain = retain; self.properties = properties
        }
    }

    public struct Connect: Equatable, Sendable {
        public var version: MQTTVersion
        public var clientId: String
        public var cleanStart: Bool
        public var keepAlive: UInt16
        public var username: String?
        public var password: [UInt8]?
        public var will: Will?
        public var properties: [MQTTProperty]
        public init(version: MQTTVersion, clientId: String, cleanStart: Bool = true, keepAlive: UInt16 = 60,
                    username: String? = nil, password: [UInt8]? = nil, will: Will? = nil, properties: [MQTTProperty] = []) {
            self.version = version; self.clientId = clientId; self.cleanStart = cleanStart; self.keepAlive = keepAlive
            self.username = username; self.password = password; self.will = will; self.properties = properties
        }
    }

    public struct ConnAck: Equatable, Sendable {
        public var sessionPresent: Bool
        /// A v5 reason code; for 3.1.1 the return code (0-5).
        public var code: UInt8
        public var properties: [MQTTProperty]
        public init(sessionPresent: Bool = false, code: UInt8, properties: [MQTTProperty] = []) {
            self.sessionPresent = sessionPresent; self.code = code; self.properties = properties
        }
    }

    public struct Publish: Equatable, Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: UInt8
        public var retain: Bool
        public var dup: Bool
        /// Present when qos > 0.
        public var packetId: UInt16?
        public var properties: [MQTTProperty]
        public init(topic: String, payload: [UInt8], qos: UInt8 = 0, retain: Bool = false, dup: Bool = false,
                    packetId: UInt16? = nil, properties: [MQTTProperty] = []) {
            self.topic = topic; self.payload = payload; self.qos = qos; self.retain = retain; self.dup = dup
            self.packetId = packetId; self.properties = properties
        }
    }

    /// PUBACK (v5: with a reason code, 0 = success).
    public struct Ack: Equatable, Sendable {
        public var packetId: UInt16
        public var code: UInt8
        public var properties: [MQTTProperty]
        public init(packetId: UInt16, code: UInt8 = 0, properties: [MQTTProperty] = []) {
            self.packetId = packetId; self.code = code; self.properties = properties
        }
    }

    public struct Subscription: Equatable, Sendable {
        public var filter: String
        /// The requested QoS (bits 0-1 of the options byte).
        public var qos: UInt8
        /// The v5 options byte's other bits (no local, retain as published, retain handling).
        public var options: UInt8
        public init(filter: String, qos: UInt8, options: UInt8 = 0) { self.filter = filter; self.qos = qos; self.options = options }
    }

    public struct Subscribe: Equatable, Sendable {
        public var packetId: UInt16
        public var subscriptions: [Subscription]
        public var properties: [MQTTProperty]
        public init(packetId: UInt16, subscriptions: [Subscription], properties: [MQTTProperty] = []) {
            self.packetId = packetId; self.subscriptions = subscriptions; self.properties = properties
        }
    }

    /// SUBACK and UNSUBACK: one code per filter (UNSUBACK in 3.1.1 carries none).
    public struct SubAck: Equatable, Sendable {
        public var packetId: UInt16
        public var codes: [UInt8]
        public var properties: [MQTTProperty]
        public init(packetId: UInt16, codes: [UInt8], properties: [MQTTProperty] = []) {
            self.packetId = packetId; self.codes = codes; self.properties = properties
        }
    }

    public struct Unsubscribe: Equatable, Sendable {
        public var packetId: UInt16
        public var filters: [String]
        public var properties: [MQTTProperty]
        public init(packetId: UInt16, filters: [String], properties: [MQTTProperty] = []) {
            self.packetId = packetId; self.filters = filters; self.properties = properties
        }
    }

    public struct Disconnect: Equatable, Sendable {
        /// v5 reason code (0 normal, 4 with will); 0 for 3.1.1.
        public var code: UInt8
        public var properties: [MQTTProperty]
        public init(code: UInt8 = 0, properties: [MQTTProperty] = []) { self.code = code; self.properties = properties }
    }

    /// The packet type nibble.
    public var typeCode: UInt8 {
        switch self {
        case .connect: 1
        case .connack: 2
        case .publish: 3
        case .puback: 4
        case .subscribe: 8
        case .suback: 9
        case .unsubscribe: 10
        case .unsuback: 11
        case .pingreq: 12
        case .pingresp: 13
        case .disconnect: 14
        }
    }
}
