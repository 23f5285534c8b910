// Durability: an ingest killed with SIGKILL loses no committed event, and running it again
// converges to the state of an uninterrupted run; `run` stops cleanly on SIGTERM; what a device
// sends cannot make a later command crash.
import Foundation
import Testing

@Suite struct CrashTests {
    static func events(_ n: Int) -> String {
        var out = ""
        for i in 0..<n {
            let thing = i % 500
            let v = i / 500 + 1
            let kind = v % 2 == 1 ? "connected" : "disconnected"
            let extra = kind == "disconnected" ? #","disconnectReason":"CONNECTION_LOST""# : ""
            out += #"{"clientId":"c\#(thing)","timestamp":\#(1_795_000_000_000 + Int64(i) * 10),"eventType":"\#(kind)","sessionIdentifier":"s\#(thing)-\#((v + 1) / 2)","versionNumber":\#((v + 1) / 2)\#(extra)}"# + "\n"
        }
        return out
    }

    func sqlite(_ db: URL, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", db.path, sql]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func killedIngestLosesNothingCommitted() throws {
        let cli = try CLI()
        let file = cli.dir.appendingPathComponent("events.jsonl")
        let total = 200_000
        try Self.events(total).write(to: file, atomically: true, encoding: .utf8)
        // A clean run for reference.
        let ref = try CLI()
        try ref.run("ingest-events", file.path, "--batch", "1000")
        let db = cli.dir.appendingPathComponent("fleet.sqlite")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["ingest-events", file.path, "--batch", "1000", "--db", db.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(300_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let partial = Int(try sqlite(db, "SELECT count(*) FROM presence_event")) ?? -1
        #expect(partial >= 0 && partial % 1000 == 0, "only whole batches are on disk: \(partial)")
        // Again: the committed events come back as duplicates, the rest are accepted.
        let again = try cli.run("ingest-events", file.path, "--batch", "1000")
        #expect(again.out.contains("\"duplicate\": \(partial)"), "\(again.out)")
        #expect(try sqlite(db, "SELECT count(*) FROM presence_event") == String(total))
        let state = "SELECT group_concat(client_id || ':' || connected || ':' || ts, ',') FROM (SELECT * FROM client ORDER BY client_id)"
        #expect(try sqlite(db, state) == sqlite(ref.dir.appendingPathComponent("fleet.sqlite"), state))
    }

    @Test func runStopsCleanlyOnSIGTERM() throws {
        let cli = try CLI()
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["run", "--events", "-", "--db", cli.dir.appendingPathComponent("fleet.sqlite").path]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data(Self.events(1000).utf8))
        usleep(1_500_000)
        kill(p.processIdentifier, SIGTERM)
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(String(decoding: out, as: UTF8.self).contains("\"accepted\": 1000"))
    }
    /// Each of these was accepted, and some made every later evaluate crash: now the line is
    /// rejected (65), the good lines around it are kept, and evaluating and searching go on.
    @Test(arguments: [
        #"{"clientId":"d","timestamp":-9223372036854775808,"eventType":"disconnected","sessionIdentifier":"s1","versionNumber":1,"disconnectReason":"CONNECTION_LOST"}"#,
        #"{"clientId":"d","timestamp":9223372036854775807,"eventType":"disconnected","sessionIdentifier":"s1","versionNumber":1,"disconnectReason":"CONNECTION_LOST"}"#,
        #"{"clientId":"d","timestamp":1.79516e12,"eventType":"disconnected","sessionIdentifier":"s1","versionNumber":1,"disconnectReason":"CONNECTION_LOST"}"#,
        #"{"clientId":"d","timestamp":1795160000000,"eventType":"disconnected","sessionIdentifier":"s1","versionNumber":9.99e300,"disconnectReason":"CONNECTION_LOST"}"#,
        #"{"clientId":"d\u0000","timestamp":1795160000000,"eventType":"connected","sessionIdentifier":"s9","versionNumber":9}"#,
        #"{"clientId":"\#(String(repeating: "x", count: 1 << 20))","timestamp":1795160000000,"eventType":"connected","sessionIdentifier":"s9","versionNumber":9}"#,
    ])
    func hostileEventsDoNotBreakLaterCommands(_ hostile: String) throws {
        let cli = try CLI()
        try cli.run("create-security-profile", "--security-profile-name", "P", "--alert-when", "B: aws:disconnect-duration >= 5")
        try cli.run("attach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:123456789012:all/things")
        try cli.run("create-thing", "--thing-name", "d")
        let good = #"{"clientId":"d","timestamp":1795159000000,"eventType":"connected","sessionIdentifier":"s1","versionNumber":1}"#
        let r = try cli.run("ingest-events", "-", stdin: good + "\n" + hostile + "\n")
        #expect(r.code == 65 && r.err.hasPrefix("fleetdex: rejected line 2: "), "\(r.err.prefix(200))")
        #expect(r.out.contains(#""accepted": 1"#))
        for at in ["2026-11-20T08:00:00Z", "2026-11-20T08:30:00Z"] {
            let e = try cli.run("evaluate", "--at", at)
            #expect(e.code == 0, "\(e.err)")
        }
        #expect(try cli.run("search", "connectivity.connected:true", "--output", "names").out == "d\n")
    }
}
