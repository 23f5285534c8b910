// A subscriber that stops reading holds a bounded amount of the endpoint's memory, counted in
// bytes (the endpoint's 512 KB output budget), not in messages: its QoS 0 deliveries are
// dropped beyond half of the budget, and QoS 1 ones that would pass it close the connection
// (SERVER_INITIATED_DISCONNECT). 80 messages of 100 KB are more than the sockets' buffers and
// the budget together, and fewer than the 1,000 messages the old bound counted.
import FleetIndex
import FleetMQTT
import Foundation
import Testing

private let hasPython = MQTTTestBed.hasPython("ssl")

@Suite(.serialized) struct MQTTSlowSubscriberTests {
    static let count = 80, size = 100_000

    @Test(.enabled(if: hasPython, "python3 is not installed"),
          arguments: [(UInt8(1), "SERVER_INITIATED_DISCONNECT"), (UInt8(0), "CLIENT_INITIATED_DISCONNECT")])
    func aSlowSubscriberIsBoundedInBytes(_ qos: UInt8, _ reason: String) async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let sub = try bed.device("slow-\(qos)"), pub = try bed.device("fast-\(qos)")
        let go = Pipe()
        let (subscriber, out, err) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.slowSubscriber, String(bed.port), bed.caFile,
                                                                    sub.certFile, sub.keyFile, sub.clientId, "flood/#", "1", "60"], input: go)
        // Subscribed (SUBACK read) before anything is published; then it reads nothing.
        let ready = MQTTTestBed.readUntil(out, "READY")
        #expect(ready.contains("READY"), "\(ready)")
        let r = try bed.python(ClientScripts.flood, [pub.certFile, pub.keyFile, pub.clientId, "flood/x", String(Self.count), String(Self.size), String(qos)])
        #expect(r.stdout.hasPrefix("SENT \(Self.count)"), "\(r.stdout) \(r.stderr)")
        // Everything is published (and acknowledged at QoS 1): the subscriber reads again.
        go.fileHandleForWriting.write(Data("go\n".utf8))
        // The subscriber reads until 3 s of silence and ends; then its disconnection is the
        // endpoint's to report (waited for from there, not from "go": on a loaded machine the
        // reading alone took longer than a fixed wait).
        subscriber.waitUntilExit()
        let events = await bed.waitFor(30) { evs in evs.contains { $0.clientId == sub.clientId && $0.kind == .disconnected } }
        let text = ready + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let disconnected = events.first { $0.clientId == sub.clientId && $0.kind == .disconnected }
        #expect(disconnected?.reason == reason, "\(text) \(stderr)")
        #expect(disconnected?.clientInitiated == (qos == 0))
        let received = text.split(separator: "\n").first { $0.hasPrefix("BYTES ") }.flatMap { Int($0.split(separator: " ")[1]) }
        #expect(received != nil, "\(text) \(stderr)")
        // What was not queued was dropped (QoS 0) or never sent (QoS 1: closed).
        #expect((received ?? .max) < Self.count * Self.size, "\(text)")
        // The publisher is unaffected.
        #expect(events.last { $0.clientId == pub.clientId }?.reason == "CLIENT_INITIATED_DISCONNECT")
    }
}
