// A quiet session hands its TLS buffers' pages back (SessionBuffers) and goes on exactly as
// before: a real TLS client (Python's ssl) subscribes, publishes to itself and pings, with
// pauses longer than the quiet period between each step, one frame even split across a pause
// (its first part held while the buffers go back).
import FleetMQTT
import Foundation
import Testing

private let hasPython = MQTTTestBed.hasPython("ssl")

@Suite struct MQTTIdleBufferTests {
    /// (protocol level, where the PUBLISH frame is cut: 0 = not cut).
    @Test(.enabled(if: hasPython, "python3 is not installed"),
          arguments: [(MQTTVersion.v311, 0), (.v311, 1), (.v5, 2), (.v5, 2_600), (.v311, 5_009)])
    func aSessionWorksAcrossReleases(level: MQTTVersion, cut: Int) async throws {
        let bed = try await MQTTTestBed(idleBufferRelease: .milliseconds(100))
        defer { Task { await bed.stop() } }
        let d = try bed.device("idle-\(level == .v5 ? 5 : 4)-\(cut)")
        let topic = "idle/\(d.clientId)"
        let payload = (0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        let subscribe = MQTTEncoder.encode(.subscribe(.init(packetId: 7, subscriptions: [.init(filter: topic, qos: 1)])), version: level)
        let publish = MQTTEncoder.encode(.publish(.init(topic: topic, payload: payload, qos: 1, packetId: 9)), version: level)
        let parts = cut == 0 ? [publish] : [Array(publish[..<cut]), Array(publish[cut...])]
        var steps = ["connect:\(d.clientId):60:\(level == .v5 ? 5 : 4)", "read:0.5", "send:" + hex(subscribe), "read:0.5"]
        for part in parts { steps += ["send:" + hex(part), "read:0.5"] }
        steps += ["send:c000", "read:0.5"]
        let before = bed.endpoint.bufferReleases
        let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile] + steps)
        let reads = r.stdout.split(separator: "\n").filter { $0.hasPrefix("R ") }.map(String.init)
        try #require(reads.count == 3 + parts.count, "\(r.stdout.prefix(600)) \(r.stderr)")
        #expect(reads[0].hasPrefix("R 20") && reads[0].contains("0000") && reads[0].hasSuffix(" open"), "CONNACK accepted: \(reads[0])")
        #expect(reads[1].hasPrefix("R 90") && reads[1].hasSuffix("01 open"), "SUBACK granting QoS 1: \(reads[1])")
        if parts.count == 2 { #expect(reads[2] == "R - open", "half a frame is not answered") }
        // The PUBACK, then the message delivered back whole.
        let delivered = reads[1 + parts.count]
        #expect(delivered.hasPrefix("R 40020009") || delivered.hasPrefix("R 4003000900"), "\(delivered.prefix(40))")
        #expect(delivered.contains(hex(payload)), "the payload arrives intact")
        #expect(reads.last == "R d000 open", "PINGRESP after the last release")
        // Each pause (after CONNACK, SUBACK, each part, PINGRESP) is longer than the release delay:
        // a release in each, the one with half a frame held among them.
        #expect(bed.endpoint.bufferReleases - before >= 3 + parts.count)
    }
}

/// A TLS record cut across two TCP writes with a release in between: NIOSSL has taken the
/// first part out of the receive buffer before it goes back, so the record still opens.
@Suite struct MQTTIdleBufferSplitRecordTests {
    /// argv: port ca cert key clientId pause; Python's ssl over a memory BIO, so that the
    /// bytes of one record can be written to the socket in two parts.
    static let script = #"""
import socket, ssl, sys, time
port, ca, cert, key, cid, pause = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
ctx = ssl.create_default_context(cafile=ca); ctx.load_cert_chain(cert, key)
sock = socket.create_connection(("127.0.0.1", port)); sock.settimeout(5)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
def flush(parts=1):
    data = out.read()
    if not data: return
    cut = len(data) // 2 if parts == 2 else len(data)
    sock.sendall(data[:cut])
    if cut < len(data):
        time.sleep(pause); sock.sendall(data[cut:])
def receive(n):
    got = b""
    while len(got) < n:
        try:
            got += tls.read(n - len(got))
        except ssl.SSLWantReadError:
            d = sock.recv(65536)
            if not d: break
            inc.write(d)
    return got
while True:
    try:
        tls.do_handshake(); break
    except ssl.SSLWantReadError:
        flush(); d = sock.recv(65536)
        if not d: print("CLOSED"); sys.exit(0)
        inc.write(d)
flush()
body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid.encode()
tls.write(bytes([0x10, len(body)]) + body); flush()
print("CONNACK", receive(4).hex(), flush=True)
time.sleep(pause)
for i in range(3):
    tls.write(b"\xc0\x00"); flush(parts=2)
    print("PINGRESP", receive(2).hex(), flush=True)
    time.sleep(pause)
"""#

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func aRecordCutAcrossAReleaseStillOpens() async throws {
        let bed = try await MQTTTestBed(idleBufferRelease: .milliseconds(100))
        defer { Task { await bed.stop() } }
        let d = try bed.device("split-record")
        let before = bed.endpoint.bufferReleases
        let r = try bed.python(Self.script, [d.certFile, d.keyFile, d.clientId, "0.4"])
        #expect(r.stdout.split(separator: "\n") == ["CONNACK 20020000", "PINGRESP d000", "PINGRESP d000", "PINGRESP d000"],
                "\(r.stdout) \(r.stderr)")
        // A release after CONNACK, then in each ping's two pauses: inside the record and after it.
        #expect(bed.endpoint.bufferReleases - before >= 7)
    }
}
