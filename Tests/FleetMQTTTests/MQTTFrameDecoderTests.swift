// The frame decoder on a connection's plaintext, fuzzed: a stream of packets gives the same
// packets however the reads cut it (a frame held across reads is its own copy), and random or
// mutated bytes never crash it: they give the same packets and the same refusal, cut or whole.
@testable import FleetMQTT
import FleetTestSupport
import NIOCore
import Testing

@Suite struct MQTTFrameDecoderTests {
    /// Decodes `stream` read in pieces of the sizes `cuts` gives: the packets, and whether it was refused.
    private static func decode(_ stream: [UInt8], cuts: (Int) -> Int) -> ([MQTTPacket], Bool) {
        var decoder = MQTTFrameDecoder(maximumPacketSize: 4_096)
        var packets: [MQTTPacket] = []
        var at = 0
        while at < stream.count {
            let n = max(1, min(stream.count - at, cuts(stream.count - at)))
            // Each read is a fresh buffer that is written over after the read, as NIOSSL's is.
            var read = ByteBufferAllocator().buffer(capacity: n)
            read.writeBytes(stream[at..<at + n])
            do {
                try decoder.decode(read, allocator: ByteBufferAllocator()) { packets.append($0); return true }
            } catch {
                return (packets, true)
            }
            // Overwritten in place: had the decoder kept a reference to it, this would copy it.
            let base = read.withVeryUnsafeBytes { $0.baseAddress }
            read.withUnsafeMutableReadableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0xEE) }
            if read.withVeryUnsafeBytes({ $0.baseAddress }) != base { return (packets, true) }
            at += n
        }
        return (packets, false)
    }

    private static func packets(_ rng: inout SplitMix64, level: MQTTVersion) -> [MQTTPacket] {
        var out: [MQTTPacket] = [.connect(.init(version: level, clientId: "fuzz-\(rng.next() % 1000)", keepAlive: 30))]
        for i in 0..<40 {
            let id = UInt16(i + 1)
            switch rng.next() % 6 {
            case 0:
                let size = Int(rng.next() % 3_000), qos = UInt8(rng.next() % 2)
                out.append(.publish(.init(topic: "t/\(i)", payload: (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) },
                                          qos: qos, packetId: qos > 0 ? id : nil)))
            case 1: out.append(.subscribe(.init(packetId: id, subscriptions: [.init(filter: "a/+/\(i)", qos: 1)])))
            case 2: out.append(.unsubscribe(.init(packetId: id, filters: ["a/#"])))
            case 3: out.append(.puback(.init(packetId: id)))
            default: out.append(.pingreq)
            }
        }
        return out
    }

    @Test(arguments: [(MQTTVersion.v311, UInt64(1)), (.v311, 2), (.v5, 3), (.v5, 4), (.v311, 5), (.v5, 6)])
    func cutsDoNotChangeThePackets(level: MQTTVersion, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let sent = Self.packets(&rng, level: level)
        let stream = sent.flatMap { MQTTEncoder.encode($0, version: level) }
        for maxCut in [1, 2, 7, 100, 1_500, 20_000] {
            let (got, refused) = Self.decode(stream) { _ in Int(rng.next() % UInt64(maxCut)) + 1 }
            let first = zip(got, sent).first { $0 != $1 }
            #expect(!refused && got == sent, "pieces of at most \(maxCut) bytes: \(got.count) of \(sent.count), first difference \(String(describing: first).prefix(300))")
        }
    }

    @Test(arguments: UInt64(1)...12)
    func randomAndMutatedBytesNeverCrash(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let level: MQTTVersion = seed % 2 == 0 ? .v5 : .v311
        var stream = Self.packets(&rng, level: level).flatMap { MQTTEncoder.encode($0, version: level) }
        if seed % 3 == 0 {
            stream = (0..<5_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        } else {
            for _ in 0..<Int(seed) * 3 { stream[Int(rng.next() % UInt64(stream.count))] = UInt8(rng.next() & 0xFF) }
        }
        let whole = Self.decode(stream) { $0 }
        for maxCut in [1, 3, 64, 4_000] {
            let cut = Self.decode(stream) { _ in Int(rng.next() % UInt64(maxCut)) + 1 }
            #expect(cut.0 == whole.0 && cut.1 == whole.1, "pieces of at most \(maxCut) bytes")
        }
    }
}
