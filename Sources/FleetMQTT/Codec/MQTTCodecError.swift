// FleetMQTT codec: why bytes are not an acceptable packet, with the MQTT 5 reason code the
// endpoint closes the connection with (3.1.1 has none: the connection is just closed).

public struct MQTTCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The MQTT 5 reason code (0x81 malformed, 0x82 protocol error, 0x84 unsupported
    /// protocol version, 0x85 client identifier not valid, 0x90 topic name invalid, 0x95
    /// packet too large).
    public var code: UInt8
    public var message: String
    public init(_ code: UInt8, _ message: String) { self.code = code; self.message = message }

    public static func malformed(_ m: String) -> MQTTCodecError { .init(0x81, m) }
    public static func protocolError(_ m: String) -> MQTTCodecError { .init(0x82, m) }
    public static func tooLarge(_ m: String) -> MQTTCodecError { .init(0x95, m) }

    public var description: String { "MQTT 0x\(String(code, radix: 16)): \(message)" }
}
