// FleetMQTT codec: bytes to packets, strictly. The fixed header's remaining length is read
// first (at most 4 bytes) and checked against the packet limit before any body is awaited;
// every field is bounded by the packet; strings must be UTF-8 without U+0000; flags, packet
// ids, QoS values, reserved bits and trailing bytes are checked as MQTT 3.1.1 and 5 require.

public struct MQTTDecoder: Sendable {
    /// AWS IoT Core's limit on a packet: 128 KB.
    public static let defaultMaximumPacketSize = 128 * 1024
    /// AWS IoT Core's limit on a client id, in bytes of UTF-8.
    public static let maximumClientIdBytes = 128

    public var maximumPacketSize: Int
    /// The connection's protocol level: set by the CONNECT decoded (or by the caller); packets
    /// are read as 3.1.1 until then.
    public var version: MQTTVersion?

    public init(maximumPacketSize: Int = MQTTDecoder.defaultMaximumPacketSize, version: MQTTVersion? = nil) {
        self.maximumPacketSize = maximumPacketSize
        self.version = version
    }

    /// The length of the whole packet starting at `bytes[start]` (fixed header included), or
    /// nil when the fixed header is not complete yet. Throws when it is over the limit or the
    /// remaining length is malformed.
    public func frameLength(_ bytes: [UInt8], from start: Int = 0) throws(MQTTCodecError) -> Int? {
        guard bytes.count - start >= 2 else { return nil }
        var value = 0
        var multiplier = 1
        for i in 0..<4 {
            guard start + 1 + i < bytes.count else { return nil }
            let b = bytes[start + 1 + i]
            value += Int(b & 0x7F) * multiplier
            if b & 0x80 == 0 {
                let total = 2 + i + value
                guard total <= maximumPacketSize else {
                    throw .tooLarge("a packet of \(total) bytes is over the limit of \(maximumPacketSize)")
                }
                return total
            }
            multiplier *= 128
        }
        throw .malformed("the remaining length is longer than 4 bytes")
    }

    /// The next packet of `bytes` from `start` and its length, or nil when more bytes are needed.
    public mutating func decode(_ bytes: [UInt8], from start: Int = 0) throws(MQTTCodecError) -> (packet: MQTTPacket, length: Int)? {
        guard let total = try frameLength(bytes, from: start), bytes.count - start >= total else { return nil }
        let frame = start == 0 && total == bytes.count ? bytes : Array(bytes[start..<start + total])
        return (try decode(frame: frame), total)
    }

    /// One whole packet (as `frameLength` delimits it).
    public mutating func decode(frame: [UInt8]) throws(MQTTCodecError) -> MQTTPacket {
        guard let total = try frameLength(frame), total == frame.count else { throw .malformed("the frame is not one whole packet") }
        var r = MQTTByteReader(frame)
        let first = try r.byte()
        _ = try r.varInt()
        let type = first >> 4, flags = first & 0x0F
        let v5 = version == .v5
        func flagsMust(_ f: UInt8) throws(MQTTCodecError) {
            guard flags == f else { throw .malformed("packet type \(type) with flags \(flags) (must be \(f))") }
        }
        func done() throws(MQTTCodecError) {
            guard r.atEnd else { throw .malformed("packet type \(type) has \(r.remaining) bytes too many") }
        }
        switch type {
        case 1:
            try flagsMust(0)
            // The level is kept as soon as it is read, so that a refusal of the rest can be
            // answered in the client's protocol level.
            let c = try Self.connect(&r, level: &version)
            version = c.version
            return .connect(c)
        case 2:
            try flagsMust(0)
            let ackFlags = try r.byte()
            guard ackFlags & 0xFE == 0 else { throw .malformed("CONNACK reserved flags are set") }
            let code = try r.byte()
            let props = v5 && !r.atEnd ? try r.properties() : []
            try done()
            return .connack(.init(sessionPresent: ackFlags == 1, code: code, properties: props))
        case 3:
            let qos = (flags >> 1) & 3
            guard qos != 3 else { throw .malformed("PUBLISH with QoS 3") }
            let dup = flags & 8 != 0
            if qos == 0 && dup { throw .malformed("PUBLISH with QoS 0 and DUP set") }
            let topic = try r.string()
            try Self.checkTopicName(topic)
            var packetId: UInt16?
            if qos > 0 {
                let id = try r.uint16()
                guard id != 0 else { throw .malformed("PUBLISH with packet identifier 0") }
                packetId = id
            }
            let props = v5 ? try r.properties() : []
            if topic.isEmpty && props.value(of: MQTTProperty.topicAlias) == nil { throw .protocolError("PUBLISH with an empty topic name") }
            if topic.isEmpty { throw .init(0x94, "topic aliases are not supported") }
            return .publish(.init(topic: topic, payload: r.rest(), qos: qos, retain: flags & 1 != 0, dup: dup,
                                  packetId: packetId, properties: props))
        case 4:
            try flagsMust(0)
            let id = try r.uint16()
            var code: UInt8 = 0
            var props: [MQTTProperty] = []
            if v5 {
                if !r.atEnd { code = try r.byte() }
                if !r.atEnd { props = try r.properties() }
            }
            try done()
            return .puback(.init(packetId: id, code: code, properties: props))
        case 5, 6, 7:
            throw .init(0x9B, "QoS 2 is not supported (packet type \(type))")
        case 8:
            try flagsMust(2)
            let id = try Self.packetId(&r, "SUBSCRIBE")
            let props = v5 ? try r.properties() : []
            var subs: [MQTTPacket.Subscription] = []
            while !r.atEnd {
                let filter = try r.string()
                let options = try r.byte()
                guard options & 3 != 3 else { throw .malformed("SUBSCRIBE with QoS 3") }
                if v5 {
                    guard options & 0xC0 == 0, (options >> 4) & 3 != 3 else { throw .malformed("SUBSCRIBE options with reserved bits set") }
                } else {
                    guard options & 0xFC == 0 else { throw .malformed("SUBSCRIBE options with reserved bits set") }
                }
                subs.append(.init(filter: filter, qos: options & 3, options: options & 0xFC))
            }
            guard !subs.isEmpty else { throw .protocolError("SUBSCRIBE with no topic filter") }
            return .subscribe(.init(packetId: id, subscriptions: subs, properties: props))
        case 9, 11:
            try flagsMust(0)
            let id = try r.uint16()
            let props = v5 ? try r.properties() : []
            if type == 11 && !v5 { try done() }
            let codes = r.rest()
            return type == 9 ? .suback(.init(packetId: id, codes: codes, properties: props))
                             : .unsuback(.init(packetId: id, codes: codes, properties: props))
        case 10:
            try flagsMust(2)
            let id = try Self.packetId(&r, "UNSUBSCRIBE")
            let props = v5 ? try r.properties() : []
            var filters: [String] = []
            while !r.atEnd { filters.append(try r.string()) }
            guard !filters.isEmpty else { throw .protocolError("UNSUBSCRIBE with no topic filter") }
            return .unsubscribe(.init(packetId: id, filters: filters, properties: props))
        case 12, 13:
            try flagsMust(0)
            try done()
            return type == 12 ? .pingreq : .pingresp
        case 14:
            try flagsMust(0)
            var code: UInt8 = 0
            var props: [MQTTProperty] = []
            if v5 {
                if !r.atEnd { code = try r.byte() }
                if !r.atEnd { props = try r.properties() }
            }
            try done()
            return .disconnect(.init(code: code, properties: props))
        case 15:
            throw .protocolError("AUTH (enhanced authentication) is not supported")
        default:
            throw .malformed("packet type 0 is reserved")
        }
    }

    static func packetId(_ r: inout MQTTByteReader, _ what: String) throws(MQTTCodecError) -> UInt16 {
        let id = try r.uint16()
        guard id != 0 else { throw .malformed("\(what) with packet identifier 0") }
        return id
    }

    /// A topic name (PUBLISH, will): no wildcard characters.
    static func checkTopicName(_ topic: String) throws(MQTTCodecError) {
        if topic.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }) {
            throw .init(0x90, "the topic name '\(topic)' contains a wildcard")
        }
    }

    static func connect(_ r: inout MQTTByteReader, level seen: inout MQTTVersion?) throws(MQTTCodecError) -> MQTTPacket.Connect {
        let name = try r.string()
        let level = try r.byte()
        guard name == "MQTT" || name == "MQIsdp" else { throw .protocolError("protocol name '\(name)' is not MQTT") }
        guard name == "MQTT", let version = MQTTVersion(rawValue: level) else {
            throw .init(0x84, "protocol level \(level) is not supported (3.1.1 and 5 are)")
        }
        seen = version
        let flags = try r.byte()
        guard flags & 1 == 0 else { throw .malformed("the CONNECT reserved flag is set") }
        let hasWill = flags & 4 != 0
        let willQoS = (flags >> 3) & 3
        let willRetain = flags & 0x20 != 0
        let hasPassword = flags & 0x40 != 0
        let hasUsername = flags & 0x80 != 0
        if hasWill {
            guard willQoS != 3 else { throw .malformed("will QoS 3") }
        } else {
            guard willQoS == 0 && !willRetain else { throw .malformed("will QoS or retain set without a will") }
        }
        if version == .v311 && hasPassword && !hasUsername { throw .malformed("a password without a user name") }
        let keepAlive = try r.uint16()
        let props = version == .v5 ? try r.properties() : []
        let clientId = try r.string()
        guard clientId.utf8.count <= maximumClientIdBytes else {
            throw .init(0x85, "the client id is \(clientId.utf8.count) bytes (at most \(maximumClientIdBytes))")
        }
        var will: MQTTPacket.Will?
        if hasWill {
            let willProps = version == .v5 ? try r.properties() : []
            let topic = try r.string()
            try checkTopicName(topic)
            guard !topic.isEmpty else { throw .protocolError("an empty will topic") }
            will = .init(topic: topic, payload: try r.binary(), qos: willQoS, retain: willRetain, properties: willProps)
        }
        let username = hasUsername ? try r.string() : nil
        let password = hasPassword ? try r.binary() : nil
        guard r.atEnd else { throw .malformed("CONNECT has \(r.remaining) bytes too many") }
        return .init(version: version, clientId: clientId, cleanStart: flags & 2 != 0, keepAlive: keepAlive,
                     username: username, password: password, will: will, properties: props)
    }
}
