// Presence: duplicates and disorder do not change the final connectivity.
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Testing

@Suite struct PresenceTests {
    typealias E = LifecycleEvent

    func connectivity(_ events: [E]) throws -> [String] {
        let db = try Fixtures.database()
        _ = try Registry(db).createThing(name: "d", typeName: nil, attributes: nil, at: 0)
        try Fixtures.ingest(db, events)
        return try db.connection.query("SELECT connected, conn_ts, disconnect_reason FROM thing") { "\($0.int(0)) \($0.optionalInt(1) ?? -1) \($0.optionalText(2) ?? "-")" }
    }

    static let t = Fixtures.t0
    /// Small histories with the cases of semantics.md §1.
    static let histories: [[E]] = [
        // connect then disconnect, one session
        [Fixtures.event("d", t, .connected), Fixtures.event("d", t + 60_000, .disconnected)],
        // a session taken over: the old session's late disconnect must not win
        [Fixtures.event("d", t, .connected, session: "a", version: 5), Fixtures.event("d", t + 60_000, .connected, session: "b", version: 6),
         Fixtures.event("d", t + 61_000, .disconnected, session: "a", version: 5, reason: "DUPLICATE_CLIENTID")],
        // connect and disconnect in the same millisecond: the disconnect is newer
        [Fixtures.event("d", t, .connected, version: 7), Fixtures.event("d", t, .disconnected, version: 7)],
        // version reset after an hour offline
        [Fixtures.event("d", t, .connected, session: "a", version: 30), Fixtures.event("d", t + 60_000, .disconnected, session: "a", version: 30),
         Fixtures.event("d", t + 2 * 3_600_000, .connected, session: "b", version: 0)],
    ]

    @Test(arguments: 0..<histories.count)
    func everyPermutationGivesTheSameState(_ i: Int) throws {
        let events = Self.histories[i] + [Self.histories[i][0]]  // with a duplicate
        let expected = try connectivity(events)
        for p in permutations(events) { #expect(try connectivity(p) == expected) }
    }

    @Test func expectedStates() throws {
        #expect(try connectivity(Self.histories[0]) == ["0 \(Self.t + 60_000) CONNECTION_LOST"])
        #expect(try connectivity(Self.histories[1]) == ["1 \(Self.t + 60_000) -"])
        #expect(try connectivity(Self.histories[2]) == ["0 \(Self.t) CONNECTION_LOST"])
        #expect(try connectivity(Self.histories[3]) == ["1 \(Self.t + 7_200_000) -"])
    }

    @Test func randomOrdersOfALargeHistory() throws {
        var rng = SplitMix64(seed: 3)
        var events: [E] = []
        var ts = Self.t
        for v in 1...60 {
            let session = "s\(v)"
            ts += Int64(rng.next() % 600_000)
            events.append(Fixtures.event("d", ts, .connected, session: session, version: Int64(v)))
            ts += Int64(rng.next() % 600_000)
            events.append(Fixtures.event("d", ts, .disconnected, session: session, version: Int64(v)))
        }
        let expected = try connectivity(events)
        for _ in 0..<5 {
            var shuffled = events + events.prefix(10)
            shuffled.shuffle(using: &rng)
            #expect(try connectivity(shuffled) == expected)
        }
    }

    @Test func outcomesAreCounted() throws {
        let db = try Fixtures.database()
        let p = Presence(db)
        let c = Fixtures.event("x", Self.t, .connected, version: 2)
        let outcomes = try db.connection.transaction {
            [try p.ingest(c), try p.ingest(c), try p.ingest(Fixtures.event("x", Self.t - 1000, .connected, session: "old", version: 1))]
        }
        #expect(outcomes == [.accepted, .duplicate, .stale])
    }

    @Test(arguments: [
        (#"{"clientId":"a","timestamp":1,"eventType":"exploded","sessionIdentifier":"s","versionNumber":1}"#, "unknown eventType"),
        (#"{"timestamp":1,"eventType":"connected","sessionIdentifier":"s","versionNumber":1}"#, "clientId is missing"),
        (#"{"clientId":"a","timestamp":1,"eventType":"disconnected","sessionIdentifier":"s","versionNumber":1,"disconnectReason":"BORED"}"#, "not an AWS disconnectReason"),
        (#"{"clientId":"a","eventType":"connected","sessionIdentifier":"s","versionNumber":1}"#, "timestamp is missing"),
        (#"{"clientId":"a","timestamp":1,"eventType":"connected","sessionIdentifier":"s"}"#, "versionNumber is missing"),
    ])
    func rejectedEvents(_ json: String, _ reason: String) throws {
        #expect { try LifecycleEvent.parse(try JSONValue.parse(json)) } throws: { ($0 as? FleetError)?.message.contains(reason) == true }
    }

    @Test func envelopesAndConnectFailed() throws {
        let e = try LifecycleEvent.parse(try JSONValue.parse(#"{"topic":"$aws/events/presence/connect_failed/a","payload":{"clientId":"a","timestamp":5,"eventType":"connect_failed","connectFailureReason":"AUTHORIZATION_FAILED"}}"#))
        #expect(e.kind == .connectFailed && e.reason == "AUTHORIZATION_FAILED")
    }

    func permutations(_ xs: [E]) -> [[E]] {
        if xs.count <= 1 { return [xs] }
        var out: [[E]] = []
        for i in xs.indices {
            var rest = xs
            let x = rest.remove(at: i)
            for p in permutations(rest) { out.append([x] + p) }
        }
        return out
    }
}
