// FleetMQTT codec: packets to bytes, for either protocol level (the v5 parts are left out
// for 3.1.1). Used by the endpoint for what it sends, and by the tests and the benchmark
// for what a client sends.

public enum MQTTEncoder {
    public static func encode(_ packet: MQTTPacket, version: MQTTVersion) -> [UInt8] {
        var body: [UInt8] = []
        var flags: UInt8 = 0
        let v5 = version == .v5
        switch packet {
        case .connect(let c):
            string("MQTT", &body)
            body.append(c.version.rawValue)
            var f: UInt8 = c.cleanStart ? 2 : 0
            if let w = c.will { f |= 4 | (w.qos & 3) << 3 | (w.retain ? 0x20 : 0) }
            if c.password != nil { f |= 0x40 }
            if c.username != nil { f |= 0x80 }
            body.append(f)
            uint16(c.keepAlive, &body)
            if c.version == .v5 { properties(c.properties, &body) }
            string(c.clientId, &body)
            if let w = c.will {
                if c.version == .v5 { properties(w.properties, &body) }
                string(w.topic, &body)
                binary(w.payload, &body)
            }
            if let u = c.username { string(u, &body) }
            if let p = c.password { binary(p, &body) }
        case .connack(let a):
            body.append(a.sessionPresent ? 1 : 0)
            body.append(a.code)
            if v5 { properties(a.properties, &body) }
        case .publish(let p):
            flags = (p.dup ? 8 : 0) | (p.qos & 3) << 1 | (p.retain ? 1 : 0)
            string(p.topic, &body)
            if p.qos > 0 { uint16(p.packetId ?? 0, &body) }
            if v5 { properties(p.properties, &body) }
            body += p.payload
        case .puback(let a):
            uint16(a.packetId, &body)
            if v5 && (a.code != 0 || !a.properties.isEmpty) {
                body.append(a.code)
                if !a.properties.isEmpty { properties(a.properties, &body) }
            }
        case .subscribe(let s):
            flags = 2
            uint16(s.packetId, &body)
            if v5 { properties(s.properties, &body) }
            for sub in s.subscriptions {
                string(sub.filter, &body)
                body.append(sub.qos & 3 | sub.options & 0xFC)
            }
        case .suback(let a), .unsuback(let a):
            uint16(a.packetId, &body)
            if v5 { properties(a.properties, &body) }
            if case .suback = packet { body += a.codes } else if v5 { body += a.codes }
        case .unsubscribe(let u):
            flags = 2
            uint16(u.packetId, &body)
            if v5 { properties(u.properties, &body) }
            for f in u.filters { string(f, &body) }
        case .pingreq, .pingresp:
            break
        case .disconnect(let d):
            if v5 && (d.code != 0 || !d.properties.isEmpty) {
                body.append(d.code)
                if !d.properties.isEmpty { properties(d.properties, &body) }
            }
        }
        var out: [UInt8] = [packet.typeCode << 4 | flags]
        varInt(UInt32(body.count), &out)
        out.reserveCapacity(out.count + body.count)
        return out + body
    }

    /// The encoded size of a PUBLISH without properties (what the endpoint delivers), without
    /// encoding it: fixed header, topic, packet id (QoS > 0), v5's empty property length, payload.
    public static func publishSize(topicBytes: Int, payloadBytes: Int, qos: UInt8, version: MQTTVersion) -> Int {
        let body = 2 + topicBytes + (qos > 0 ? 2 : 0) + (version == .v5 ? 1 : 0) + payloadBytes
        let lengthBytes = body < 128 ? 1 : body < 16_384 ? 2 : body < 2_097_152 ? 3 : 4
        return 1 + lengthBytes + body
    }

    static func uint16(_ v: UInt16, _ out: inout [UInt8]) {
        out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF))
    }

    static func uint32(_ v: UInt32, _ out: inout [UInt8]) {
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8((v >> UInt32(s)) & 0xFF)) }
    }

    static func varInt(_ v: UInt32, _ out: inout [UInt8]) {
        var x = v
        repeat {
            var b = UInt8(x & 0x7F)
            x >>= 7
            if x > 0 { b |= 0x80 }
            out.append(b)
        } while x > 0
    }

    static func binary(_ b: [UInt8], _ out: inout [UInt8]) {
        uint16(UInt16(truncatingIfNeeded: b.count), &out)
        out += b
    }

    static func string(_ s: String, _ out: inout [UInt8]) { binary(Array(s.utf8), &out) }

    static func properties(_ ps: [MQTTProperty], _ out: inout [UInt8]) {
        var body: [UInt8] = []
        for p in ps {
            body.append(p.id)
            switch p.value {
            case .byte(let b): body.append(b)
            case .twoBytes(let v): uint16(v, &body)
            case .fourBytes(let v): uint32(v, &body)
            case .varInt(let v): varInt(v, &body)
            case .string(let s): string(s, &body)
            case .binary(let b): binary(b, &body)
            case .pair(let k, let v): string(k, &body); string(v, &body)
            }
        }
        varInt(UInt32(body.count), &out)
        out += body
    }
}
