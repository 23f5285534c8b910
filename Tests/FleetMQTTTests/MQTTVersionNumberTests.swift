// The broker's versionNumber per client id: kept in memory only while a session of the client
// is open or its events are not committed yet (not for every client id ever seen), and still
// one more per connection: from memory while the events are in flight, from the stored
// sessions once they are committed.
import FleetIndex
import FleetMQTT
import Foundation
import Testing

private let hasPython = MQTTTestBed.hasPython("ssl")

/// Holds the endpoint's submissions while closed (events in flight, not committed).
private final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    var isClosed: Bool {
        get { lock.lock(); defer { lock.unlock() }; return closed }
        set { lock.lock(); closed = newValue; lock.unlock() }
    }
}

@Suite(.serialized) struct MQTTVersionNumberTests {
    /// One session: CONNECT (3.1.1), DISCONNECT.
    func session(_ bed: MQTTTestBed, _ d: Device) throws {
        let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:\(d.clientId):60:4", "read:0.3", "send:e000", "read:0.5"])
        #expect(r.stdout.contains("R 20020000 open"), "\(r.stdout) \(r.stderr)")
    }

    func versions(_ bed: MQTTTestBed, _ clientId: String) -> [Int64] {
        bed.log.events.filter { $0.clientId == clientId }.map(\.version)
    }

    /// Waits (without draining: a gate may hold the submissions) until `n` events of the client are submitted.
    func waitForSubmitted(_ bed: MQTTTestBed, _ clientId: String, _ n: Int) async {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, bed.log.events.filter({ $0.clientId == clientId }).count < n {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"), arguments: [1, 2, 3])
    func committedClientsAreNotKeptInMemory(_ sessions: Int) async throws {
        let bed = try await MQTTTestBed(ingest: true)
        defer { Task { await bed.stop() } }
        let devices = try ["trim-a", "trim-b"].map { try bed.device($0) }
        for _ in 0..<sessions {
            for d in devices { try session(bed, d) }
        }
        _ = await bed.waitFor { evs in devices.allSatisfy { d in evs.filter { $0.clientId == d.clientId }.count == 2 * sessions } }
        for d in devices {
            #expect(versions(bed, d.clientId) == (1...Int64(sessions)).flatMap { [$0, $0] })
        }
        // Every session ended and its events are committed: no number is held for them.
        #expect(bed.endpoint.sessionCount == 0)
        #expect(bed.endpoint.numberedClientCount == 0)
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func aReconnectWhileTheEventsAreInFlightIsNumberedFromMemory() async throws {
        let gate = Gate()
        gate.isClosed = true
        let bed = try await MQTTTestBed(ingest: true, submit: { _ in
            while gate.isClosed { try? await Task.sleep(for: .milliseconds(20)) }
        })
        defer { Task { gate.isClosed = false; await bed.stop() } }
        let d = try bed.device("inflight")
        try session(bed, d)
        await waitForSubmitted(bed, "inflight", 1)
        // Nothing is stored yet (the first batch is held, the rest queued behind it): the
        // second session is numbered from the broker's memory.
        try session(bed, d)
        #expect(try Presence(try bed.db()).lastVersion(clientId: "inflight") == nil)
        #expect(bed.endpoint.numberedClientCount == 1)
        gate.isClosed = false
        await bed.endpoint.drainEvents()
        #expect(versions(bed, "inflight") == [1, 1, 2, 2])
        #expect(try Presence(try bed.db()).lastVersion(clientId: "inflight") == 2)
        #expect(bed.endpoint.numberedClientCount == 0)
        // Trimmed: the third is numbered from the stored sessions.
        try session(bed, d)
        _ = await bed.waitFor { evs in evs.filter { $0.clientId == "inflight" }.count == 6 }
        #expect(versions(bed, "inflight") == [1, 1, 2, 2, 3, 3])
        #expect(bed.endpoint.numberedClientCount == 0)
    }
}
