// The packet codec: table-driven decodes of well-formed and malformed packets, for 3.1.1 and
// 5, round trips, and the limits (128 KB, 4-byte remaining length, UTF-8, 128-byte client id).
import FleetMQTT
import Testing

private func bytes(_ hex: String) -> [UInt8] {
    let h = Array(hex.replacingOccurrences(of: " ", with: "").utf8)
    return stride(from: 0, to: h.count, by: 2).map { UInt8(String(decoding: h[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// A frame: fixed header byte, remaining length (one byte), body.
private func frame(_ first: UInt8, _ body: [UInt8]) -> [UInt8] { [first, UInt8(body.count)] + body }
private func str(_ s: String) -> [UInt8] { [UInt8(s.utf8.count >> 8), UInt8(s.utf8.count & 0xFF)] + Array(s.utf8) }

struct DecodeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let version: MQTTVersion
    let input: [UInt8]
    let expected: MQTTPacket
    var testDescription: String { name }
}

struct RefuseCase: CustomTestStringConvertible, Sendable {
    let name: String
    let version: MQTTVersion
    let input: [UInt8]
    let code: UInt8
    var testDescription: String { name }
}

@Suite struct MQTTCodecTests {
    static let connect311 = frame(0x10, str("MQTT") + [4, 0x02, 0, 60] + str("dev1"))
    static let decodeCases: [DecodeCase] = [
        DecodeCase(name: "CONNECT 3.1.1 clean, keep-alive 60", version: .v311, input: connect311,
                   expected: .connect(.init(version: .v311, clientId: "dev1", cleanStart: true, keepAlive: 60))),
        DecodeCase(name: "CONNECT 3.1.1 with will, user name, password", version: .v311,
                   input: frame(0x10, str("MQTT") + [4, 0xEE, 0, 30] + str("d") + str("w/t") + [0, 2, 0x61, 0x62] + str("?SDK=Py") + [0, 1, 0x70]),
                   expected: .connect(.init(version: .v311, clientId: "d", cleanStart: true, keepAlive: 30, username: "?SDK=Py",
                                            password: [0x70], will: .init(topic: "w/t", payload: [0x61, 0x62], qos: 1, retain: true)))),
        DecodeCase(name: "CONNECT 5 with session expiry", version: .v311,
                   input: frame(0x10, str("MQTT") + [5, 0x02, 0, 60, 5, 0x11, 0, 0, 0, 10] + str("dev5")),
                   expected: .connect(.init(version: .v5, clientId: "dev5", keepAlive: 60, properties: [.init(0x11, .fourBytes(10))]))),
        DecodeCase(name: "CONNECT empty client id", version: .v311, input: frame(0x10, str("MQTT") + [4, 0x02, 0, 0] + str("")),
                   expected: .connect(.init(version: .v311, clientId: "", keepAlive: 0))),
        DecodeCase(name: "CONNACK 3.1.1 accepted", version: .v311, input: bytes("20 02 00 00"), expected: .connack(.init(code: 0))),
        DecodeCase(name: "CONNACK 5 not authorized, no properties", version: .v5, input: bytes("20 03 00 87 00"), expected: .connack(.init(code: 0x87))),
        DecodeCase(name: "PUBLISH QoS 0", version: .v311, input: frame(0x30, str("a/b") + [0x68, 0x69]),
                   expected: .publish(.init(topic: "a/b", payload: [0x68, 0x69]))),
        DecodeCase(name: "PUBLISH QoS 1 retain dup", version: .v311, input: frame(0x3B, str("a") + [0, 7]),
                   expected: .publish(.init(topic: "a", payload: [], qos: 1, retain: true, dup: true, packetId: 7))),
        DecodeCase(name: "PUBLISH 5 QoS 1 with user property", version: .v5,
                   input: frame(0x32, str("t") + [0, 9, 7, 0x26] + str("k") + str("v") + [0x41]),
                   expected: .publish(.init(topic: "t", payload: [0x41], qos: 1, packetId: 9, properties: [.init(0x26, .pair("k", "v"))]))),
        DecodeCase(name: "PUBLISH UTF-8 topic", version: .v311, input: frame(0x30, str("h/é")), expected: .publish(.init(topic: "h/é", payload: []))),
        DecodeCase(name: "PUBACK 3.1.1", version: .v311, input: bytes("40 02 00 05"), expected: .puback(.init(packetId: 5))),
        DecodeCase(name: "PUBACK 5 with reason", version: .v5, input: bytes("40 03 00 05 10"), expected: .puback(.init(packetId: 5, code: 0x10))),
        DecodeCase(name: "SUBSCRIBE two filters", version: .v311, input: frame(0x82, [0, 1] + str("a/+") + [1] + str("#") + [0]),
                   expected: .subscribe(.init(packetId: 1, subscriptions: [.init(filter: "a/+", qos: 1), .init(filter: "#", qos: 0)]))),
        DecodeCase(name: "SUBSCRIBE 5 no-local", version: .v5, input: frame(0x82, [0, 2, 0] + str("x") + [0x05]),
                   expected: .subscribe(.init(packetId: 2, subscriptions: [.init(filter: "x", qos: 1, options: 4)]))),
        DecodeCase(name: "SUBACK", version: .v311, input: bytes("90 04 00 01 01 80"), expected: .suback(.init(packetId: 1, codes: [1, 0x80]))),
        DecodeCase(name: "UNSUBSCRIBE", version: .v311, input: frame(0xA2, [0, 3] + str("a/#")), expected: .unsubscribe(.init(packetId: 3, filters: ["a/#"]))),
        DecodeCase(name: "UNSUBACK 3.1.1", version: .v311, input: bytes("B0 02 00 03"), expected: .unsuback(.init(packetId: 3, codes: []))),
        DecodeCase(name: "PINGREQ", version: .v311, input: bytes("C0 00"), expected: .pingreq),
        DecodeCase(name: "PINGRESP", version: .v311, input: bytes("D0 00"), expected: .pingresp),
        DecodeCase(name: "DISCONNECT 3.1.1", version: .v311, input: bytes("E0 00"), expected: .disconnect(.init())),
        DecodeCase(name: "DISCONNECT 5 with will", version: .v5, input: bytes("E0 01 04"), expected: .disconnect(.init(code: 4))),
    ]

    @Test(arguments: decodeCases)
    func decodes(_ c: DecodeCase) throws {
        var d = MQTTDecoder(version: c.version)
        let got = try d.decode(c.input)
        #expect(got?.packet == c.expected)
        #expect(got?.length == c.input.count)
        // Every prefix is "need more", never a packet or an error.
        for n in 0..<c.input.count {
            var p = MQTTDecoder(version: c.version)
            #expect(try p.decode(Array(c.input.prefix(n))) == nil)
        }
        // Encoded again, the packet reads back the same.
        let version = d.version ?? c.version
        var again = MQTTDecoder(version: version)
        #expect(try again.decode(frame: MQTTEncoder.encode(c.expected, version: version)) == c.expected)
    }

    static let refusalCases: [RefuseCase] = [
        RefuseCase(name: "remaining length of 5 bytes", version: .v311, input: bytes("30 FF FF FF FF 01"), code: 0x81),
        RefuseCase(name: "packet over 128 KB (announced)", version: .v311, input: bytes("30 81 80 08"), code: 0x95),
        RefuseCase(name: "reserved type 0", version: .v311, input: bytes("00 00"), code: 0x81),
        RefuseCase(name: "AUTH", version: .v5, input: bytes("F0 00"), code: 0x82),
        RefuseCase(name: "PUBREL (QoS 2)", version: .v311, input: bytes("62 02 00 01"), code: 0x9B),
        RefuseCase(name: "CONNECT protocol level 3", version: .v311, input: frame(0x10, str("MQIsdp") + [3, 2, 0, 60] + str("x")), code: 0x84),
        RefuseCase(name: "CONNECT protocol level 6", version: .v311, input: frame(0x10, str("MQTT") + [6, 2, 0, 60] + str("x")), code: 0x84),
        RefuseCase(name: "CONNECT wrong protocol name", version: .v311, input: frame(0x10, str("MQTX") + [4, 2, 0, 60] + str("x")), code: 0x82),
        RefuseCase(name: "CONNECT reserved flag", version: .v311, input: frame(0x10, str("MQTT") + [4, 3, 0, 60] + str("x")), code: 0x81),
        RefuseCase(name: "CONNECT will QoS 3", version: .v311, input: frame(0x10, str("MQTT") + [4, 0x1E, 0, 60] + str("x") + str("w") + str("p")), code: 0x81),
        RefuseCase(name: "CONNECT will retain without will", version: .v311, input: frame(0x10, str("MQTT") + [4, 0x22, 0, 60] + str("x")), code: 0x81),
        RefuseCase(name: "CONNECT password without user name (3.1.1)", version: .v311, input: frame(0x10, str("MQTT") + [4, 0x42, 0, 60] + str("x") + str("p")), code: 0x81),
        RefuseCase(name: "CONNECT client id of 129 bytes", version: .v311,
                   input: [0x10, 0x8D, 0x01] + str("MQTT") + [4, 2, 0, 60] + str(String(repeating: "a", count: 129)), code: 0x85),
        RefuseCase(name: "CONNECT trailing bytes", version: .v311, input: frame(0x10, str("MQTT") + [4, 2, 0, 60] + str("x") + [0]), code: 0x81),
        RefuseCase(name: "CONNECT client id not UTF-8", version: .v311, input: frame(0x10, str("MQTT") + [4, 2, 0, 60] + [0, 2, 0xC3, 0x28]), code: 0x81),
        RefuseCase(name: "CONNECT client id with U+0000", version: .v311, input: frame(0x10, str("MQTT") + [4, 2, 0, 60] + [0, 1, 0]), code: 0x81),
        RefuseCase(name: "CONNECT client id with a surrogate", version: .v311, input: frame(0x10, str("MQTT") + [4, 2, 0, 60] + [0, 3, 0xED, 0xA0, 0x80]), code: 0x81),
        RefuseCase(name: "CONNECT string past the end", version: .v311, input: frame(0x10, str("MQTT") + [4, 2, 0, 60, 0, 9, 0x61]), code: 0x81),
        RefuseCase(name: "CONNECT 5 unknown property", version: .v311, input: frame(0x10, str("MQTT") + [5, 2, 0, 60, 2, 0x7F, 0] + str("x")), code: 0x81),
        RefuseCase(name: "CONNECT 5 property twice", version: .v311,
                   input: frame(0x10, str("MQTT") + [5, 2, 0, 60, 6, 0x21, 0, 1, 0x21, 0, 1] + str("x")), code: 0x82),
        RefuseCase(name: "CONNECT with flags", version: .v311, input: frame(0x11, str("MQTT") + [4, 2, 0, 60] + str("x")), code: 0x81),
        RefuseCase(name: "PUBLISH QoS 3", version: .v311, input: frame(0x36, str("a") + [0, 1]), code: 0x81),
        RefuseCase(name: "PUBLISH QoS 0 with DUP", version: .v311, input: frame(0x38, str("a")), code: 0x81),
        RefuseCase(name: "PUBLISH topic with +", version: .v311, input: frame(0x30, str("a/+")), code: 0x90),
        RefuseCase(name: "PUBLISH topic with #", version: .v311, input: frame(0x30, str("#")), code: 0x90),
        RefuseCase(name: "PUBLISH packet id 0", version: .v311, input: frame(0x32, str("a") + [0, 0]), code: 0x81),
        RefuseCase(name: "PUBLISH empty topic (3.1.1)", version: .v311, input: frame(0x30, str("")), code: 0x82),
        RefuseCase(name: "PUBLISH 5 topic alias", version: .v5, input: frame(0x30, str("") + [3, 0x23, 0, 1]), code: 0x94),
        RefuseCase(name: "PUBLISH 5 properties past the end", version: .v5, input: frame(0x30, str("a") + [9, 0x01]), code: 0x81),
        RefuseCase(name: "PUBACK too long (3.1.1)", version: .v311, input: bytes("40 03 00 01 00"), code: 0x81),
        RefuseCase(name: "PUBACK too short", version: .v311, input: bytes("40 01 00"), code: 0x81),
        RefuseCase(name: "SUBSCRIBE flags 0", version: .v311, input: frame(0x80, [0, 1] + str("a") + [0]), code: 0x81),
        RefuseCase(name: "SUBSCRIBE no filter", version: .v311, input: frame(0x82, [0, 1]), code: 0x82),
        RefuseCase(name: "SUBSCRIBE QoS 3", version: .v311, input: frame(0x82, [0, 1] + str("a") + [3]), code: 0x81),
        RefuseCase(name: "SUBSCRIBE reserved option bits (3.1.1)", version: .v311, input: frame(0x82, [0, 1] + str("a") + [4]), code: 0x81),
        RefuseCase(name: "SUBSCRIBE 5 retain handling 3", version: .v5, input: frame(0x82, [0, 1, 0] + str("a") + [0x30]), code: 0x81),
        RefuseCase(name: "SUBSCRIBE packet id 0", version: .v311, input: frame(0x82, [0, 0] + str("a") + [0]), code: 0x81),
        RefuseCase(name: "SUBSCRIBE filter cut short", version: .v311, input: frame(0x82, [0, 1] + str("ab").dropLast()), code: 0x81),
        RefuseCase(name: "UNSUBSCRIBE no filter", version: .v311, input: frame(0xA2, [0, 1]), code: 0x82),
        RefuseCase(name: "PINGREQ with a body", version: .v311, input: bytes("C0 01 00"), code: 0x81),
        RefuseCase(name: "PINGREQ with flags", version: .v311, input: bytes("C1 00"), code: 0x81),
        RefuseCase(name: "DISCONNECT with a body (3.1.1)", version: .v311, input: bytes("E0 01 00"), code: 0x81),
    ]

    @Test(arguments: refusalCases)
    func refuses(_ c: RefuseCase) {
        var d = MQTTDecoder(version: c.version)
        do {
            let got = try d.decode(c.input)
            Issue.record("decoded \(String(describing: got))")
        } catch {
            #expect(error.code == c.code, "\(error)")
        }
    }

    @Test func packetLimitIsExact() throws {
        // A PUBLISH of exactly 128 KB is read; one byte more is refused before its body arrives.
        let limit = MQTTDecoder.defaultMaximumPacketSize
        let topic = str("t")
        let body = topic + [UInt8](repeating: 0x41, count: limit - 4 - topic.count)
        var header: [UInt8] = [0x30]
        var n = body.count
        repeat { var b = UInt8(n & 0x7F); n >>= 7; if n > 0 { b |= 0x80 }; header.append(b) } while n > 0
        #expect(header.count + body.count == limit)
        var d = MQTTDecoder()
        #expect(try d.decode(header + body)?.length == limit)
        var bigger = header
        bigger[1] += 1
        #expect(throws: MQTTCodecError.self) { try d.frameLength(bigger) }
    }

    @Test func severalPacketsInOneBuffer() throws {
        var d = MQTTDecoder()
        let input = Self.connect311 + bytes("C0 00 E0 00")
        var at = 0
        var got: [MQTTPacket] = []
        while let (p, n) = try d.decode(input, from: at) { got.append(p); at += n }
        #expect(got.count == 3)
        #expect(got.last == .disconnect(.init()))
        #expect(d.version == .v311)
    }

    struct FilterCase: Sendable { let filter: String; let topic: String; let matches: Bool }
    static let filterCases: [FilterCase] = [
        .init(filter: "a/b", topic: "a/b", matches: true), .init(filter: "a/b", topic: "a/c", matches: false),
        .init(filter: "a/+", topic: "a/b", matches: true), .init(filter: "a/+", topic: "a/b/c", matches: false),
        .init(filter: "a/+", topic: "a/", matches: true), .init(filter: "a/#", topic: "a", matches: true),
        .init(filter: "a/#", topic: "a/b/c", matches: true), .init(filter: "#", topic: "x/y", matches: true),
        .init(filter: "#", topic: "$aws/events/presence/connected/x", matches: false),
        .init(filter: "+/events/#", topic: "$aws/events/x", matches: false),
        .init(filter: "$aws/events/presence/+/dev1", topic: "$aws/events/presence/connected/dev1", matches: true),
        .init(filter: "$aws/events/presence/#", topic: "$aws/events/presence/disconnected/dev1", matches: true),
        .init(filter: "+/+", topic: "/a", matches: true), .init(filter: "a/b/c", topic: "a/b", matches: false),
    ]

    @Test(arguments: filterCases)
    func matchesFilters(_ c: FilterCase) {
        #expect(TopicFilter.isValid(c.filter))
        #expect(TopicFilter.matches(c.filter, c.topic) == c.matches, "\(c.filter) vs \(c.topic)")
    }

    @Test(arguments: ["a/#/b", "a#", "a/b+", "", "#/", "++"])
    func invalidFilters(_ f: String) { #expect(!TopicFilter.isValid(f)) }
}
