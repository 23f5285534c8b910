// Presence: duplicates and disorder do not change the final connectivity.
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Testing

@Suite struct PresenceTests {
    typealias E = LifecycleEvent

    func connectivity(backend: Backend = .sqlite, _ events: [E]) throws -> [String] {
        let db = try Fixtures.database(backend)
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

    @Test(arguments: Backend.allCases) func expectedStates(_ backend: Backend) throws {
        #expect(try connectivity(backend: backend, Self.histories[0]) == ["0 \(Self.t + 60_000) CONNECTION_LOST"])
        #expect(try connectivity(backend: backend, Self.histories[1]) == ["1 \(Self.t + 60_000) -"])
        #expect(try connectivity(backend: backend, Self.histories[2]) == ["0 \(Self.t) CONNECTION_LOST"])
        #expect(try connectivity(backend: backend, Self.histories[3]) == ["1 \(Self.t + 7_200_000) -"])
    }

    @Test(arguments: Backend.allCases) func randomOrdersOfALargeHistory(_ backend: Backend) throws {
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
        let expected = try connectivity(backend: backend, events)
        for _ in 0..<5 {
            var shuffled = events + events.prefix(10)
            shuffled.shuffle(using: &rng)
            #expect(try connectivity(backend: backend, shuffled) == expected)
        }
    }

    @Test(arguments: Backend.allCases) func outcomesAreCounted(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
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

    static func line(client: String = "a", ts: String = "1795000000000", type: String = "connected", version: String = "1", session: String = "s") -> String {
        #"{"clientId":"\#(client)","timestamp":\#(ts),"eventType":"\#(type)","sessionIdentifier":"\#(session)","versionNumber":\#(version)}"#
    }

    /// What a device or a replay may send that must be a bad line, not a stored event (each was accepted before).
    @Test(arguments: [
        (line(ts: "-9223372036854775808"), "outside 1970"),
        (line(ts: "-1"), "outside 1970"),
        (line(ts: "253402300800000"), "outside 1970"),
        (line(ts: "1.5e12"), "timestamp must be an integer"),
        (line(ts: "1796112600000.5"), "timestamp must be an integer"),
        (line(ts: "\"1795000000000\""), "timestamp must be an integer"),
        (line(version: "1.5"), "versionNumber must be an integer"),
        (line(version: "-1"), "versionNumber must be an integer >= 0"),
        (line(client: "a\\u0000b"), "clientId contains U+0000"),
        (line(client: String(repeating: "x", count: 129)), "clientId is 129 bytes long"),
        (line(client: String(repeating: "é", count: 65)), "clientId is 130 bytes long"),
        (line(type: "connectFailed"), "unknown eventType 'connectFailed'"),
        (line(session: String(repeating: "s", count: 257)), "sessionIdentifier is 257 bytes long; fleetdex allows at most 256"),
        (line(session: String(repeating: "é", count: 129)), "sessionIdentifier is 258 bytes long"),
        (#"{"clientId":"a","timestamp":1795000000000,"eventType":"connect_failed","connectFailureReason":"\#(String(repeating: "R", count: 300))"}"#,
         "connectFailureReason is 300 bytes long"),
    ])
    func rejectedAtIntake(_ json: String, _ reason: String) throws {
        #expect { try LifecycleEvent.decode(line: Array(json.utf8)) } throws: { ($0 as? FleetError)?.message.contains(reason) == true }
    }

    @Test(arguments: [
        (line(ts: "0"), Int64(0)),
        (line(ts: "253402300799999"), 253_402_300_799_999),
        (line(ts: "1388534400000"), 1_388_534_400_000),  // old events (replays) are fine
    ] as [(String, Int64)])
    func timestampsInTheWindow(_ json: String, _ ts: Int64) throws {
        #expect(try LifecycleEvent.decode(line: Array(json.utf8))?.timestamp == ts)
    }

    /// At the limit a session and a failure reason are stored, on both backends (PostgreSQL keeps both in the
    /// history's key index).
    @Test(arguments: Backend.allCases) func sessionsAndReasonsAtTheLimitAreStored(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let session = String(repeating: "s", count: 256), reason = String(repeating: "R", count: 256)
        let lines = [Self.line(session: session),
                     #"{"clientId":"a","timestamp":1795000000001,"eventType":"connect_failed","connectFailureReason":"\#(reason)"}"#]
        var rejected: [String] = []
        let summary = try Presence(db).ingest(LineReader(bytes: Array(lines.joined(separator: "\n").utf8)), rejected: { rejected.append("\($0): \($1)") })
        #expect(rejected.isEmpty)
        #expect(summary.accepted == 2)
        let stored = try db.connection.query("SELECT session, reason FROM presence_event ORDER BY ts") { ($0.text(0), $0.optionalText(1)) }
        #expect(stored.map(\.0) == [session, ""])
        #expect(stored.map(\.1) == [nil, reason])
    }

    @Test(arguments: Backend.allCases) func clientIdsAtTheLimitAndInUnicode(_ backend: Backend) throws {
        #expect(try LifecycleEvent.decode(line: Array(Self.line(client: String(repeating: "x", count: 128)).utf8))?.clientId.utf8.count == 128)
        #expect(try LifecycleEvent.decode(line: Array(Self.line(client: "pompe-é").utf8))?.clientId == "pompe-é")
    }

    /// Two client ids that differ only in invalid bytes would both read as "\u{FFFD}" and merge.
    @Test(arguments: Backend.allCases) func invalidUTF8IsRejectedNotReplaced(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        var bytes: [UInt8] = []
        for bad: UInt8 in [0xFF, 0xFE] {
            bytes += Array(#"{"clientId":"dev-"#.utf8) + [bad] + Array(#"","timestamp":1795000000000,"eventType":"connected","sessionIdentifier":"s","versionNumber":1}"#.utf8) + [0x0A]
        }
        var lines: [Int] = []
        let s = try Presence(db).ingest(LineReader(bytes: bytes), rejected: { n, reason in
            if reason.contains("UTF-8") { lines.append(n) }
        })
        #expect(lines == [1, 2] && s.accepted == 0)
        #expect(try db.connection.scalar("SELECT count(*) FROM client")?.int == 0)
    }

    /// `$aws/events/#` carries the subscription events too: counted as ignored, not rejected.
    @Test(arguments: Backend.allCases) func subscriptionEventsAreIgnored(_ backend: Backend) throws {
        let db = try Fixtures.database(backend)
        let input = [
            #"{"clientId":"a","timestamp":1795000000000,"eventType":"subscribed","sessionIdentifier":"s","principalIdentifier":"p","topics":["a/b"]}"#,
            #"{"topic":"$aws/events/subscriptions/unsubscribed/a","payload":{"clientId":"a","timestamp":1795000000001,"eventType":"unsubscribed","sessionIdentifier":"s","principalIdentifier":"p","topics":["a/b"]}}"#,
            Self.line(),
        ].joined(separator: "\n")
        var reasons: [String] = []
        let s = try Presence(db).ingest(LineReader(bytes: Array(input.utf8)), rejected: { reasons.append("\($0): \($1)") })
        #expect(reasons == [])
        #expect(s.ignored == 2 && s.accepted == 1 && s.rejected == 0)
    }

    /// One JSON array only when the whole input is one; else JSON Lines, whatever the first byte.
    @Test(arguments: [
        // JSON Lines whose first line starts with `[`: the good lines after it are kept.
        ("[1,2]\n" + line(client: "a") + "\n" + line(client: "b") + "\n", 2, 0, [1]),
        ("[\n" + line(client: "a") + "\n" + line(client: "b") + "\n", 2, 0, [1]),
        ("\n  [\"x\"]\n" + line(client: "a") + "\n", 1, 0, [2]),
        // One array, on one line or many.
        ("[" + line(client: "a") + "," + line(client: "b") + "]", 2, 0, []),
        ("[\n" + line(client: "a") + ",\n" + line(client: "b") + "\n]\n", 2, 0, []),
        ("[\n" + line(client: "a") + ",\n" + line(client: "b", type: "subscribed") + ",\n7\n]\n", 1, 1, [3]),
        // A truncated array: nothing to keep, and it says so.
        ("[\n" + line(client: "a") + ",\n", 0, 0, [1, 2]),
    ])
    func arrayOrLines(_ input: String, _ accepted: Int, _ ignored: Int, _ rejectedLines: [Int]) throws {
        let db = try Fixtures.database()
        var lines: [Int] = []
        let s = try Presence(db).ingest(LineReader(bytes: Array(input.utf8)), rejected: { n, _ in lines.append(n) })
        #expect(s.accepted == accepted && s.ignored == ignored && lines == rejectedLines, "\(s)")
    }

    @Test(arguments: Backend.allCases) func envelopesAndConnectFailed(_ backend: Backend) throws {
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
