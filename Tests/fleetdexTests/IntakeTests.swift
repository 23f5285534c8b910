// What goes into fleetdex through import-things, ingest-events and run: exit codes a script
// can rely on, bad lines named, progress only on a terminal, and other commands working meanwhile.
import Foundation
import Testing

@Suite struct IntakeTests {
    static func event(_ client: String, _ i: Int) -> String {
        #"{"clientId":"\#(client)","timestamp":\#(1_795_000_000_000 + Int64(i) * 1000),"eventType":"connected","sessionIdentifier":"s\#(i)","versionNumber":\#(i)}"#
    }

    static func fleet(_ n: Int) -> String {
        (0..<n).map { #"{"thingName":"t\#($0)","attributes":{"site":"s\#($0 % 7)","serial":"SN\#($0)"}}"# + "\n" }.joined()
    }

    /// A missing input is 66 (EX_NOINPUT) for all three, named on stderr, and no database is created.
    @Test(arguments: [
        ["import-things", "missing.jsonl"],
        ["import-things", "missing.jsonl", "--atomic"],
        ["ingest-events", "missing.jsonl"],
        ["run", "--events", "missing.jsonl", "--exit-at-end"],
    ])
    func aMissingInputIs66(_ args: [String]) throws {
        let cli = try CLI()
        let r = try cli.run(args)
        #expect(r.code == 66)
        #expect(r.err == "fleetdex: InvalidRequestException: cannot open missing.jsonl: No such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: cli.dir.appendingPathComponent("fleet.sqlite").path))
    }

    @Test(arguments: ["import-things", "ingest-events"])
    func aDirectoryIsNotAnInput(_ command: String) throws {
        let cli = try CLI()
        let r = try cli.run(command, cli.dir.path)
        #expect(r.code == 66 && r.err.contains("Is a directory"), "\(r)")
    }

    /// `run` ends as `ingest-events` does: 65 when a line was rejected, after keeping the rest.
    @Test(arguments: [
        (["ingest-events", "-"], Int32(65)),
        (["run", "--events", "-", "--exit-at-end"], Int32(65)),
    ] as [([String], Int32)])
    func rejectedLinesEnd65(_ args: [String], _ code: Int32) throws {
        let cli = try CLI()
        let input = [Self.event("a", 1), "{broken", Self.event("b", 2), #"{"clientId":"c","timestamp":1,"eventType":"subscribed"}"#].joined(separator: "\n") + "\n"
        let r = try cli.run(args, stdin: input)
        #expect(r.code == code)
        #expect(r.err.contains("fleetdex: rejected line 2: malformed JSON"))
        #expect(r.out.contains(#""accepted": 2"#) && r.out.contains(#""ignored": 1"#) && r.out.contains(#""rejected": 1"#), "\(r.out)")
        #expect(try cli.run("search", "connectivity.connected:true OR thingName:*", "--output", "names").code == 0)
    }

    @Test func importThingsNamesEveryBadLineAndKeepsTheGoodOnes() throws {
        let cli = try CLI()
        let input = [#"{"thingName":"a"}"#, #"{"thingName":"b c"}"#, #"{"thingName":"d","attributes":{"k":"v w"}}"#, #"{"thingName":"e"}"#].joined(separator: "\n")
        let r = try cli.run("import-things", "-", stdin: input)
        #expect(r.code == 65)
        #expect(r.err == """
            fleetdex: rejected line 2: thingName 'b c' must match [a-zA-Z0-9:_-]+
            fleetdex: rejected line 3: the value of attribute 'k' ('v w') must match [a-zA-Z0-9_.,@/:#=\\[\\]-]*

            """)
        #expect(try cli.run("list-things", "--output", "text").out.contains("arn:aws:iot:us-east-1:123456789012:thing/e"))
        let atomic = try cli.run("import-things", "-", "--atomic", stdin: input.replacingOccurrences(of: #""a""#, with: #""f""#))
        #expect(atomic.code == 65)
        #expect(atomic.err.hasSuffix("fleetdex: InvalidRequestException: line 2: thingName 'b c' must match [a-zA-Z0-9:_-]+; 1 more line rejected; nothing was imported (atomic)\n"))
        #expect(try cli.run("describe-thing", "--thing-name", "f").code == 1)
    }

    /// The progress line goes to a terminal only: with stderr a pipe, stderr stays empty.
    @Test func progressOnlyOnATerminal() throws {
        let cli = try CLI()
        let file = cli.dir.appendingPathComponent("fleet.jsonl")
        try Self.fleet(8_000).write(to: file, atomically: true, encoding: .utf8)
        let r = try cli.run("import-things", file.path)
        #expect(r.code == 0 && r.err == "")
        // On a terminal (script(1) gives it one) the same import shows it, rewritten with \r.
        let script = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: script) else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        let db = cli.dir.appendingPathComponent("tty.sqlite").path
        p.arguments = ["-qc", "'\(CLI.binary.path)' import-things '\(file.path)' --db '\(db)' --output text", "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("\rimport-things: ") && text.contains(" lines/s, "), "\(text.prefix(200))")
    }

    /// Other commands keep working while an import or an ingest runs: readers (the import
    /// stays in WAL) and, during an ingest, small writers (it lets them in between its
    /// batches). An atomic import holds the write lock to its end, so a writer waits for it
    /// (up to the 5 s busy timeout): that is not checked, since the import's length depends
    /// on the machine's load.
    @Test(arguments: ["import-things", "ingest-events"])
    func othersWorkMeanwhile(_ command: String) throws {
        let cli = try CLI()
        try cli.run("create-thing", "--thing-name", "probe")
        let file = cli.dir.appendingPathComponent("input.jsonl")
        if command == "import-things" {
            try Self.fleet(8_000).write(to: file, atomically: true, encoding: .utf8)
        } else {
            try (0..<20_000).map { Self.event("c\($0 % 3000)", $0) + "\n" }.joined().write(to: file, atomically: true, encoding: .utf8)
        }
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = command == "ingest-events" ? [command, file.path, "--batch", "2000"] : [command, file.path]
        p.environment = ["FLEETDEX_DB": cli.dir.appendingPathComponent("fleet.sqlite").path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var done = 0
        var failures: [String] = []
        while p.isRunning {
            let writer = ["update-thing", "--thing-name", "probe", "--attribute-payload", #"{"attributes":{"n":"\#(done)"}}"#]
            for args in [["describe-thing", "--thing-name", "probe"], ["search", "thingName:probe", "--output", "names"]]
                + (command == "ingest-events" ? [writer] : []) {
                let r = try cli.run(args)
                if r.code != 0 { failures.append("\(args[0]): \(r.err)") }
                done += 1
            }
        }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(failures == [])
        #expect(done > 0)
    }
    /// A live stream (a pipe that goes quiet): what came in is committed while the pipe waits,
    /// not held until 5,000 more events or the end arrive.
    @Test func aQuietPipeIsCommittedWhileItWaits() throws {
        let cli = try CLI()
        for i in 0..<10 { try cli.run("create-thing", "--thing-name", "d\(i)") }
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["ingest-events", "-"]
        p.environment = ["FLEETDEX_DB": cli.dir.appendingPathComponent("fleet.sqlite").path]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data((0..<10).map { Self.event("d\($0)", $0) + "\n" }.joined().utf8))
        var connected = ""
        for _ in 0..<100 where connected != "10" {
            usleep(100_000)
            connected = try cli.run("get-statistics", "--query-string", "connectivity.connected:true", "--output", "text").out
                .split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        }
        input.fileHandleForWriting.closeFile()
        p.waitUntilExit()
        #expect(connected == "10")
        #expect(p.terminationStatus == 0)
    }
}
