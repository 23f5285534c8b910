// MQTT 5 (3.1.2.11.4): the endpoint never sends a client a packet larger than the Maximum
// Packet Size of its CONNECT; a PUBLISH over it is discarded for that client (and the next
// ones still arrive). Deliveries here are QoS 1 on `big/t`: 10 bytes of header and topic
// beside the payload, so a payload of 1,011 bytes makes a packet of exactly 1,024.
import FleetIndex
import FleetMQTT
import Foundation
import Testing

private let hasPaho = MQTTTestBed.hasPython("paho.mqtt.client")


@Suite(.serialized) struct MQTTMaximumPacketSizeTests {
    static let sizes = [100, 1011, 1012, 5000, 101]

    @Test(arguments: [(5, 0, MQTTVersion.v311), (5, 100, .v5), (300, 1, .v5), (16_370, 1, .v311), (16_380, 1, .v5), (200_000, 0, .v5)])
    func publishSizeIsTheEncodedSize(_ payload: Int, _ qos: UInt8, _ version: MQTTVersion) {
        let topic = "a/b/c"
        let packet = MQTTPacket.publish(.init(topic: topic, payload: [UInt8](repeating: 7, count: payload), qos: qos, packetId: qos > 0 ? 9 : nil))
        #expect(MQTTEncoder.publishSize(topicBytes: topic.utf8.count, payloadBytes: payload, qos: qos, version: version)
                == MQTTEncoder.encode(packet, version: version).count)
    }

    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"),
          arguments: [(1024, [100, 1011, 101]), (1025, [100, 1011, 1012, 101]), (0, sizes)])
    func aPublishOverTheClientsMaximumPacketSizeIsDiscarded(_ limit: Int, _ expected: [Int]) async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let sub = try bed.device("small-\(limit)"), pub = try bed.device("pub-\(limit)")
        let (subscriber, out, err) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.pahoMaximumPacketSize, String(bed.port), bed.caFile,
                                                                    sub.certFile, sub.keyFile, sub.clientId, String(limit), "15", "big/#", "big/end"])
        // Subscribed (SUBACK come) before anything is published.
        let ready = MQTTTestBed.readUntil(out, "READY")
        #expect(ready.contains("READY"), "\(ready)")
        var steps = ["connect:\(pub.clientId):60:4", "read:0.3"]
        for (i, n) in (Self.sizes + [1]).enumerated() {
            let topic = i == Self.sizes.count ? "big/end" : "big/t"
            steps.append("send:" + hex(MQTTEncoder.encode(.publish(.init(topic: topic, payload: [UInt8](repeating: 0x61, count: n), qos: 1,
                                                                         packetId: UInt16(i + 1))), version: .v311)))
        }
        steps += ["read:0.5", "send:e000", "read:0.3"]
        let r = try bed.python(ClientScripts.raw, [pub.certFile, pub.keyFile] + steps)
        #expect(r.stdout.contains("R 20020000 open"), "\(r.stdout) \(r.stderr)")
        subscriber.waitUntilExit()
        let text = ready + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let got = text.split(separator: "\n").filter { $0.hasPrefix("MSG big/t ") }.compactMap { Int($0.split(separator: " ")[2]) }
        #expect(got == expected, "\(text) \(stderr)")
        #expect(text.contains("MSG big/end 1"), "\(text)")
        // Discarded messages do not end the session: the client disconnects on its own.
        let events = await bed.waitFor { evs in evs.filter { $0.clientId == sub.clientId }.count == 2 }
        #expect(events.last { $0.clientId == sub.clientId }?.reason == "CLIENT_INITIATED_DISCONNECT")
    }
}
