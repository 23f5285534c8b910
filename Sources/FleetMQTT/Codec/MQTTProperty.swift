// FleetMQTT codec: an MQTT 5 property (identifier and typed value), and the table of
// identifiers with their wire types (MQTT 5.0 §2.2.2.2).

public struct MQTTProperty: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case byte(UInt8)
        case twoBytes(UInt16)
        case fourBytes(UInt32)
        case varInt(UInt32)
        case string(String)
        case binary([UInt8])
        case pair(String, String)
    }

    public var id: UInt8
    public var value: Value
    public init(_ id: UInt8, _ value: Value) { self.id = id; self.value = value }

    enum Kind { case byte, twoBytes, fourBytes, varInt, string, binary, pair }

    /// The wire type of each property identifier MQTT 5 defines.
    static func kind(of id: UInt8) -> Kind? {
        switch id {
        case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A: .byte
        case 0x13, 0x21, 0x22, 0x23: .twoBytes
        case 0x02, 0x11, 0x18, 0x27: .fourBytes
        case 0x0B: .varInt
        case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F: .string
        case 0x09, 0x16: .binary
        case 0x26: .pair
        default: nil
        }
    }

    // The identifiers fleetdex reads or writes.
    public static let sessionExpiryInterval: UInt8 = 0x11
    public static let receiveMaximum: UInt8 = 0x21
    public static let maximumPacketSize: UInt8 = 0x27
    public static let topicAlias: UInt8 = 0x23
    public static let topicAliasMaximum: UInt8 = 0x22
    public static let reasonString: UInt8 = 0x1F
    public static let serverKeepAlive: UInt8 = 0x13
    public static let maximumQoS: UInt8 = 0x24
    public static let retainAvailable: UInt8 = 0x25
    public static let wildcardSubscriptionAvailable: UInt8 = 0x28
    public static let sharedSubscriptionAvailable: UInt8 = 0x2A
    public static let assignedClientIdentifier: UInt8 = 0x12
    public static let userProperty: UInt8 = 0x26
}

extension Array where Element == MQTTProperty {
    public func value(of id: UInt8) -> MQTTProperty.Value? { first { $0.id == id }?.value }
}
