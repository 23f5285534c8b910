// The command line, as a user runs it: the built binary's stdout, stderr and exit code.
import Foundation
import Testing

struct CLI {
    let dir: URL
    static let binary: URL = {
        // The test bundle sits next to the built executables (.build/<config>/).
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fleetdex").path) && url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("fleetdex")
    }()

    /// One directory per test process, removed when it exits.
    static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-cli-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-cli-tests-\(getpid())").path) }
        return root
    }()

    init() throws {
        dir = CLI.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    struct Result { var out: String; var err: String; var code: Int32 }

    @discardableResult
    func run(_ args: String..., stdin: String? = nil) throws -> Result { try run(args, stdin: stdin) }

    /// Runs fleetdex in `cwd` (default: the test's directory) with `$FLEETDEX_DB` and
    /// `$FLEETDEX_QUERIES` in the test's directory; `environment` sets (or, with nil, unsets)
    /// variables on top.
    func run(_ args: [String], stdin: String? = nil, in cwd: URL? = nil, environment: [String: String?] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.currentDirectoryURL = cwd ?? dir
        var env = ProcessInfo.processInfo.environment
        env["FLEETDEX_DB"] = dir.appendingPathComponent("fleet.sqlite").path
        env["FLEETDEX_QUERIES"] = dir.appendingPathComponent("Queries").path
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        input.fileHandleForWriting.closeFile()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self), code: p.terminationStatus)
    }
}

@Suite struct CLITests {
    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build fleetdex first: \(CLI.binary.path)")
    }

    @Test func createAndDescribe() throws {
        let cli = try CLI()
        let c = try cli.run("create-thing", "--thing-name", "pump-17", "--attribute-payload", #"{"attributes":{"site":"denver"}}"#)
        #expect(c.code == 0 && c.err.isEmpty)
        #expect(c.out.contains(#""thingArn": "arn:aws:iot:us-east-1:123456789012:thing/pump-17""#))
        let d = try cli.run("describe-thing", "--thing-name", "pump-17")
        #expect(d.out.contains(#""site": "denver""#) && d.out.contains(#""version": 1"#))
        let names = try cli.run("search", "attributes.site:den*", "--output", "names")
        #expect(names.out == "pump-17\n")
    }

    @Test(arguments: [
        (["describe-thing", "--thing-name", "nope"], Int32(1), "fleetdex: ResourceNotFoundException: Thing nope cannot be found.\n"),
        (["create-thing", "--thing-name", "bad name"], 65, "fleetdex: InvalidRequestException: thingName 'bad name' must match [a-zA-Z0-9:_-]+\n"),
        (["create-thing", "--thing-name", "a", "--attribute-payload", "{oops"], 65,
         "fleetdex: InvalidRequestException: --attribute-payload is not valid JSON: expected a string key at byte 1\n"),
        // A query error: the message once, then the query with a caret.
        (["search-index", "--query-string", "thingName:"], 65,
         "fleetdex: InvalidQueryException: expected a value after ':', found end of query\n  | thingName:\n  |           ^\n"),
        (["search", "thingNme:x"], 65,
         "fleetdex: InvalidQueryException: unknown field 'thingNme'; did you mean 'thingName'?\n  | thingNme:x\n  | ^^^^^^^^\n"),
        (["describe-thing", "--thing-name", "a", "--bogus"], 64,
         "fleetdex: UsageError: Unknown option '--bogus' (a value that starts with '-' is written --flag=VALUE, or after '--' as an argument)\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
        // A database that cannot be opened: the path and why.
        (["describe-thing", "--thing-name", "a", "--db", "no-such-dir/fleet.sqlite"], 1,
         "fleetdex: InternalFailureException: cannot open database no-such-dir/fleet.sqlite: the directory no-such-dir does not exist\n"),
        (["describe-thing", "--thing-name", "a", "--db", ""], 64,
         "fleetdex: UsageError: --db must name a database file\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
        // --output names the formats this command prints.
        (["describe-thing", "--thing-name", "a", "--output", "yaml"], 64,
         "fleetdex: UsageError: --output 'yaml' is not a format of this command (use json, table or text)\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
        (["search", "x", "--output", "chart"], 64,
         "fleetdex: UsageError: --output 'chart' is not a format of this command (use json, table, text, names or csv)\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
        // Control characters and NUL in a message are written as escapes: the error stays one line.
        (["describe-thing", "--thing-name", "a\nb\u{1}c\u{7f}\td"], 65,
         "fleetdex: InvalidRequestException: thingName 'a\\nb\\u{01}c\\u{7f}\\td' must match [a-zA-Z0-9:_-]+\n"),
        (["search", "x\u{1b}[31m AND attributes.a:("], 65,
         "fleetdex: InvalidQueryException: unexpected '['\n  | x\\u{1b}[31m AND attributes.a:(\n  |        ^\n"),
        (["search", "attributes.a\u{1}b:("], 65,
         "fleetdex: InvalidQueryException: expected a clause, found end of query\n  | attributes.a\\u{01}b:(\n  | " + String(repeating: " ", count: 21) + "^\n"),
        // A service prefix names an AWS service fleetdex re-creates.
        (["iot-data", "create-thing", "--thing-name", "a"], 64,
         "fleetdex: UsageError: fleetdex iot-data runs update-thing-shadow, get-thing-shadow, delete-thing-shadow; 'create-thing' is not one of them\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
        (["iot", "sns", "list-topics"], 64,
         "fleetdex: UsageError: 'iot sns': write 'fleetdex sns …' (sns is a service of its own)\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n"),
    ] as [([String], Int32, String)])
    func failures(_ args: [String], _ code: Int32, _ stderr: String) throws {
        let r = try CLI().run(args)
        #expect(r.code == code)
        #expect(r.err == stderr)
        #expect(r.out.isEmpty)
    }

    @Test func iotIsAServicePrefix() throws {
        let cli = try CLI()
        let created = try cli.run("iot", "create-thing", "--thing-name", "pump-17")
        #expect(created.code == 0 && created.out.contains(#""thingName": "pump-17""#))
        #expect(try cli.run("iot", "describe-thing", "--thing-name", "pump-17").out == cli.run("describe-thing", "--thing-name", "pump-17").out)
        let shadow = try cli.run("iot-data", "update-thing-shadow", "--thing-name", "pump-17", "--payload", #"{"state":{"reported":{"temp":71.5}}}"#)
        #expect(shadow.code == 0)
        #expect(try cli.run("iot-data", "get-thing-shadow", "--thing-name", "pump-17").out.contains(#""temp": 71.5"#))
        #expect(try cli.run("iot", "search-index", "--query-string", "shadow.reported.temp>70", "--output", "text").out.contains("pump-17"))
        #expect(try cli.run("iot", "--help").out == cli.run("--help").out)
        #expect(try cli.run("iot", "create-thing", "--help").out == cli.run("create-thing", "--help").out)
    }

    @Test func globalOptionsMayComeBeforeTheCommand() throws {
        let cli = try CLI()
        let db = cli.dir.appendingPathComponent("other.sqlite").path
        #expect(try cli.run("--db", db, "create-thing", "--thing-name", "pump-17").code == 0)
        #expect(try cli.run("--db=\(db)", "--output", "text", "describe-thing", "--thing-name", "pump-17").out.contains("pump-17"))
        #expect(try cli.run("--db", db, "iot", "search-index", "--query-string", "thingName:pump-*", "--output", "text").out.contains("pump-17"))
        #expect(try cli.run("--db", db, "--output", "names", "search", "--", "-thingName:other").out == "pump-17\n")
        #expect(try cli.run("--db", db, "sqs", "list-queues").code == 0)
        // The default database ($FLEETDEX_DB) was not touched.
        #expect(try cli.run("describe-thing", "--thing-name", "pump-17").code == 1)
    }

    @Test func anUnreachablePostgresURLIsAClearErrorAndNoFileIsMade() throws {
        let cli = try CLI()
        for url in ["postgres://fleetdex@127.0.0.1:1/fleet", "postgresql://u:secret@127.0.0.1:1/db"] {
            let r = try cli.run("--db", url, "describe-thing", "--thing-name", "x")
            #expect(r.code == 1 && r.err.contains("cannot connect to postgres") && r.err.contains("127.0.0.1:1/"), "\(r.err)")
            #expect(!r.err.contains("secret"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).filter { $0.hasPrefix("postgres") }.isEmpty)
    }

    /// (command, formats its --help names, formats it must not name)
    static let helpFormats: [([String], [String], [String])] = [
        (["describe-thing"], ["json", "table", "text"], ["csv", "names", "chart"]),
        (["sqs", "receive-message"], ["json", "table", "text"], ["csv", "names", "chart"]),
        (["search"], ["json", "table", "text", "names", "csv"], ["chart"]),
        (["list-metric-values"], ["json", "table", "text", "chart"], ["csv", "names"]),
        (["group-report"], ["table", "json", "text", "csv"], ["names", "chart"]),
    ]

    @Test(arguments: helpFormats)
    func helpListsTheFormatsTheCommandTakes(_ command: [String], _ named: [String], _ absent: [String]) throws {
        let cli = try CLI()
        let help = try cli.run(command + ["--help"]).out
        // The --output entry, up to the next option.
        let entry = try #require(help.components(separatedBy: "\n  --output <format>").dropFirst().first?.components(separatedBy: "\n  --").first)
        for f in named { #expect(entry.contains(f), "\(command) --help does not name \(f)") }
        for f in absent { #expect(!entry.contains(f), "\(command) --help names \(f), which it refuses") }
    }

    @Test func savedQueriesAreFoundFromAnyDirectory() throws {
        let cli = try CLI()
        let a = cli.dir.appendingPathComponent("a"), b = cli.dir.appendingPathComponent("b")
        for d in [a, b] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let db = cli.dir.appendingPathComponent("data/fleet.sqlite")
        try FileManager.default.createDirectory(at: db.deletingLastPathComponent(), withIntermediateDirectories: true)
        let env: [String: String?] = ["FLEETDEX_QUERIES": nil, "FLEETDEX_DB": db.path]
        try cli.run(["create-thing", "--thing-name", "pump-17", "--attribute-payload", #"{"attributes":{"site":"denver"}}"#], in: a, environment: env)
        let saved = try cli.run(["queries", "save", "denver", "attributes.site:denver"], in: a, environment: env)
        #expect(saved.code == 0)
        #expect(saved.out.contains(db.path + ".queries/denver.fq"))
        #expect(FileManager.default.fileExists(atPath: db.path + ".queries/denver.fq"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: a.path).isEmpty, "nothing written where the user stands")
        for cwd in [a, b] {
            #expect(try cli.run(["search", "@denver", "--output", "names"], in: cwd, environment: env).out == "pump-17\n")
            #expect(try cli.run(["search", "--saved", "denver", "--output", "names"], in: cwd, environment: env).out == "pump-17\n")
            #expect(try cli.run(["queries", "list", "--output", "json"], in: cwd, environment: env).out.contains(#""name": "denver""#))
        }
        // --queries and $FLEETDEX_QUERIES come first.
        let other = cli.dir.appendingPathComponent("other").path
        #expect(try cli.run(["search", "@denver"], in: b, environment: ["FLEETDEX_QUERIES": other, "FLEETDEX_DB": db.path]).code == 1)
        #expect(try cli.run(["search", "@denver", "--queries", other], in: b, environment: env).err.contains("no saved query 'denver' in \(other)"))
        // The shipped queries are there from anywhere.
        #expect(try cli.run(["queries", "show", "lost-30d"], in: b, environment: env).code == 0)
    }

    @Test func aSavedQueryFileThatIsNotUTF8IsNamed() throws {
        let cli = try CLI()
        let dir = cli.dir.appendingPathComponent("Queries")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data([0x74, 0x68, 0xff, 0xfe, 0x3a]).write(to: dir.appendingPathComponent("latin.fq"))
        for args in [["search", "--saved", "latin"], ["search", "@latin"], ["queries", "show", "latin"]] {
            let r = try cli.run(args)
            #expect(r.code == 65)
            #expect(r.err == "fleetdex: InvalidRequestException: saved query file \(dir.path)/latin.fq is not UTF-8 text\n")
        }
    }

    /// A query that starts with '-' (NOT) as a user would pass it.
    static let dashQueries: [[String]] = [
        ["search", "--output", "text", "--query-string", "-thingName:t1"],
        ["search", "--output", "text", "--query-string=-thingName:t1"],
        ["search", "--output", "text", "--", "-thingName:t1"],
        ["search-index", "--output", "text", "--query-string", "-thingName:t1"],
        ["iot", "search-index", "--output", "text", "--query-string=-thingName:t1"],
    ]

    @Test(arguments: dashQueries)
    func aQueryThatStartsWithADash(_ args: [String]) throws {
        let cli = try CLI()
        try cli.run("create-thing", "--thing-name", "t1")
        try cli.run("create-thing", "--thing-name", "t2")
        let r = try cli.run(args)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("t2") && !r.out.contains("t1"))
    }

    @Test func ingestNamesRejectedLinesAndKeepsGoodOnes() throws {
        let cli = try CLI()
        let events = """
            {"clientId":"a","timestamp":1795164228528,"eventType":"connected","sessionIdentifier":"s","versionNumber":1}
            {"clientId":"broken","timestamp":17
            {"clientId":"a","timestamp":1795164228999,"eventType":"exploded","sessionIdentifier":"s","versionNumber":1}
            {"clientId":"a","timestamp":1795164228528,"eventType":"connected","sessionIdentifier":"s","versionNumber":1}

            """
        let r = try cli.run("ingest-events", "-", stdin: events)
        #expect(r.code == 65)
        #expect(r.err.contains("rejected line 2: malformed JSON"))
        #expect(r.err.contains("rejected line 3: unknown eventType 'exploded'"))
        #expect(r.out.contains(#""accepted": 1"#) && r.out.contains(#""duplicate": 1"#) && r.out.contains(#""rejected": 2"#))
    }

    /// (arguments, exit code, what stdout or stderr says): a command is parsed alone when it
    /// can be, and the answers of the whole command tree stay the same.
    static let parsedAlone: [([String], Int32, String)] = [
        (["sns", "create-topic", "--help"], 0, "USAGE: fleetdex sns create-topic "),
        (["queries", "list", "--help"], 0, "USAGE: fleetdex queries list "),
        (["help", "sqs", "receive-message"], 0, "USAGE: fleetdex sqs receive-message "),
        (["describe-thing", "-h"], 0, "USAGE: fleetdex describe-thing "),
        (["--version"], 0, "0."),
        (["search-index", "--query-string", "x", "--bogus"], 64, "Unknown option '--bogus'"),
        (["sns", "create-topic"], 64, "Missing expected argument '--name <name>'"),
        (["sns", "no-such-command"], 64, "no-such-command"),
        (["sqs", "create-queue", "--queue-name", "q1", "--output", "text"], 0, "q1"),
    ]

    @Test(arguments: parsedAlone)
    func theCommandNamedIsParsedAloneWithTheSameAnswers(_ args: [String], _ code: Int32, _ says: String) throws {
        let r = try CLI().run(args)
        #expect(r.code == code, "\(args): \(r.err)")
        #expect((r.out + r.err).contains(says), "\(args): \(r.out)\(r.err)")
    }

    @Test func everyCommandHelpHasAnExample() throws {
        let cli = try CLI()
        let top = try cli.run("--help")
        let names = top.out.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("  "), let first = t.split(separator: " ").first, first.contains("-") || ["search", "queries", "evaluate", "connect", "disconnect", "run", "sns", "sqs"].contains(String(first)) else { return nil }
            return String(first)
        }
        #expect(names.count > 40)
        for n in names where !["queries", "sns", "sqs"].contains(n) {
            let h = try cli.run(n, "--help")
            #expect(h.out.contains("Example:"), "\(n) --help has no example")
        }
    }

    @Test func walkthroughInMiniature() throws {
        let cli = try CLI()
        try cli.run("sns", "create-topic", "--name", "T")
        try cli.run("sqs", "create-queue", "--queue-name", "Q")
        #expect(try cli.run("sns", "subscribe", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:T", "--protocol", "sqs",
                            "--notification-endpoint", "arn:aws:sqs:us-east-1:123456789012:Q").code == 0)
        #expect(try cli.run("create-security-profile", "--security-profile-name", "P", "--alert-when", "B: aws:disconnect-duration >= 5",
                            "--alert-targets", #"{"SNS":{"alertTargetArn":"arn:aws:sns:us-east-1:123456789012:T","roleArn":"arn:aws:iam::123456789012:role/r"}}"#).code == 0)
        try cli.run("attach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:123456789012:all/things")
        try cli.run("create-thing", "--thing-name", "test_thing")
        try cli.run("connect", "--thing-name", "test_thing", "--at", "2026-11-28T10:00:20Z")
        try cli.run("disconnect", "--thing-name", "test_thing", "--at", "2026-11-28T10:01:20Z")
        try cli.run("evaluate", "--at", "2026-11-28T10:05:00Z")
        let e = try cli.run("evaluate", "--at", "2026-11-28T10:10:00Z")
        #expect(e.out.contains(#""violationsRaised": 1"#))
        let m = try cli.run("sqs", "receive-message", "--queue-url", "Q", "--at", "2026-11-28T10:10:05Z")
        #expect(m.out.contains("MD5OfBody") && m.out.contains("in-alarm"))
        let chart = try cli.run("list-metric-values", "--thing-name", "test_thing", "--metric-name", "aws:disconnect-duration",
                                "--start-time", "2026-11-28T10:00:00Z", "--end-time", "2026-11-28T10:30:00Z", "--output", "chart")
        #expect(chart.out.contains("values: 3 8"))
    }
}
