// FleetMQTT codec: reads the MQTT data types (§1.5) from one packet's bytes, each read checked
// against what is left, so no input can read past the packet.

struct MQTTByteReader {
    private let bytes: [UInt8]
    private(set) var index: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes; self.index = start; self.end = end ?? bytes.count
    }

    var remaining: Int { end - index }
    var atEnd: Bool { index >= end }

    mutating func byte() throws(MQTTCodecError) -> UInt8 {
        guard index < end else { throw .malformed("the packet ends early") }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func uint16() throws(MQTTCodecError) -> UInt16 {
        let hi = try byte(), lo = try byte()
        return UInt16(hi) << 8 | UInt16(lo)
    }

    mutating func uint32() throws(MQTTCodecError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 { v = v << 8 | UInt32(try byte()) }
        return v
    }

    /// A variable byte integer: at most 4 bytes, the last without its continuation bit.
    mutating func varInt() throws(MQTTCodecError) -> UInt32 {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        for _ in 0..<4 {
            let b = try byte()
            value |= UInt32(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        throw .malformed("a variable byte integer is longer than 4 bytes")
    }

    mutating func take(_ n: Int) throws(MQTTCodecError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw .malformed("a field runs past the end of the packet") }
        defer { index += n }
        return Array(bytes[index..<index + n])
    }

    mutating func binary() throws(MQTTCodecError) -> [UInt8] {
        try take(Int(try uint16()))
    }

    /// A UTF-8 encoded string (§1.5.4): well-formed UTF-8 (no surrogates, no overlongs) and no U+0000.
    mutating func string() throws(MQTTCodecError) -> String {
        let raw = try binary()
        guard let s = String(validating: raw, as: UTF8.self) else { throw .malformed("a string is not valid UTF-8") }
        guard !raw.contains(0) else { throw .malformed("a string contains U+0000") }
        return s
    }

    /// The rest, as the payload.
    mutating func rest() -> [UInt8] {
        defer { index = end }
        return Array(bytes[index..<end])
    }

    /// An MQTT 5 property list: its length, then properties of known identifiers with their
    /// types; a property other than User Property given twice is a protocol error.
    mutating func properties() throws(MQTTCodecError) -> [MQTTProperty] {
        let length = Int(try varInt())
        guard length <= remaining else { throw .malformed("the property length runs past the end of the packet") }
        var sub = MQTTByteReader(bytes, from: index, to: index + length)
        index += length
        var out: [MQTTProperty] = []
        while !sub.atEnd {
            let id = try sub.byte()
            guard let kind = MQTTProperty.kind(of: id) else { throw .malformed("unknown property 0x\(String(id, radix: 16))") }
            let value: MQTTProperty.Value
            switch kind {
            case .byte: value = .byte(try sub.byte())
            case .twoBytes: value = .twoBytes(try sub.uint16())
            case .fourBytes: value = .fourBytes(try sub.uint32())
            case .varInt: value = .varInt(try sub.varInt())
            case .string: value = .string(try sub.string())
            case .binary: value = .binary(try sub.binary())
            case .pair: value = .pair(try sub.string(), try sub.string())
            }
            if id != MQTTProperty.userProperty, out.contains(where: { $0.id == id }) {
                throw .protocolError("property 0x\(String(id, radix: 16)) is given twice")
            }
            out.append(MQTTProperty(id, value))
        }
        return out
    }
}
