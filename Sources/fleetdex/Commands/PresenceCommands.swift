// fleetdex: presence: lifecycle event ingestion, simulated devices, and the long-running `run`.
import ArgumentParser
import FleetIndex
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Opens a command's input (a file, or - for standard input) before the database is opened:
/// a file that cannot be opened ends the command with exit 66 (EX_NOINPUT), so that 65 keeps
/// meaning "lines were rejected" and no database is created for nothing.
func openInput(_ path: String) -> LineReader {
    do { return try LineReader(path: path) } catch {
        FileHandle.standardError.write(Data("fleetdex: \(error.exception): \(error.message)\n".utf8))
        exit(66)
    }
}

/// The progress line of a long command, on standard error only when it is a terminal, rewritten
/// in place (`\r`) at most 4 times a second; `clear()` before anything else is written there.
final class ProgressMeter {
    let command: String
    let reader: LineReader
    let enabled = isatty(2) == 1
    private let start = ProgressMeter.seconds()
    private var last = 0.0
    private var shown = false

    init(_ command: String, _ reader: LineReader) {
        self.command = command
        self.reader = reader
        last = start
    }

    static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let now = Self.seconds()
        guard now - last >= 0.25 else { return }
        last = now
        let text = ProgressLine.format(command, done: done, bytes: reader.position, total: reader.size, elapsed: now - start)
        FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
        shown = true
    }

    /// Runs `body` with the meter, and clears its line after, whether `body` returns or throws.
    func run<T>(_ body: (ProgressMeter) throws -> T) rethrows -> T {
        defer { clear() }
        return try body(self)
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }

    /// Writes a line to standard error under the progress line.
    func log(_ s: String) {
        clear()
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

struct IngestEvents: ParsableCommand {
    static let configuration = CommandConfiguration(command: "ingest-events",
        abstract: "Ingest AWS IoT lifecycle events: JSON Lines, one JSON array, or {topic, payload} envelopes.",
        discussion: example("fleetdex ingest-events presence.jsonl", "mosquitto_sub -t '$aws/events/#' | fleetdex ingest-events -"))
    @OptionGroup var g: GlobalOptions
    @Argument(help: "A file, or - for standard input.") var file: String = "-"
    @Option(help: "Events per committed batch.") var batch: Int = 5000
    func run() throws {
        let reader = openInput(file)
        let db = try g.open()
        let meter = ProgressMeter("ingest-events", reader)
        let s = try meter.run { m in
            try Presence(db).ingest(reader, batch: max(1, batch), rejected: { line, reason in
                m.log("fleetdex: rejected line \(line): \(reason)")
            }, progress: m.update)
        }
        Output.emit(summary(s), try g.format())
        if s.rejected > 0 { throw ExitCode(65) }
    }
}

/// An ingest's counts, as `ingest-events` and `run` print them.
func summary(_ s: Presence.Summary) -> JSONValue {
    jsonObject([("accepted", .int(s.accepted)), ("duplicate", .int(s.duplicate)), ("stale", .int(s.stale)),
                ("ignored", .int(s.ignored)), ("rejected", .int(s.rejected))])
}

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(command: "connect", abstract: "A simulated device connects: the connected event AWS would publish, ingested.",
        discussion: example("fleetdex connect --thing-name test_thing --at 2026-11-28T10:00:00Z --ip 203.0.113.7"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var clientId: String?
    @Option var ip: String?
    func run() throws {
        let (e, outcome) = try Presence(try g.open()).simulateConnect(thingName: thingName, clientId: clientId, ip: ip, at: try g.now())
        Output.emit(jsonObject([("event", e.payload), ("outcome", .string("\(outcome)"))]), try g.format())
    }
}

struct Disconnect: ParsableCommand {
    static let configuration = CommandConfiguration(command: "disconnect", abstract: "A simulated device disconnects its current session.",
        discussion: example("fleetdex disconnect --thing-name test_thing --at 2026-11-28T10:01:00Z --reason CLIENT_INITIATED_DISCONNECT"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var clientId: String?
    @Option var reason: String = "CONNECTION_LOST"
    func run() throws {
        let (e, outcome) = try Presence(try g.open()).simulateDisconnect(thingName: thingName, clientId: clientId, reason: reason, at: try g.now())
        Output.emit(jsonObject([("event", e.payload), ("outcome", .string("\(outcome)"))]), try g.format())
    }
}

/// Set by SIGINT/SIGTERM; the run loop finishes its batch and exits.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(command: "run",
        abstract: "Long-running: ingest events as they arrive and evaluate on every 5-minute boundary of the clock. SIGINT/SIGTERM stop it cleanly.",
        discussion: example("fleetdex run --events - < live-stream.jsonl", "fleetdex run --events presence.jsonl --interval 300"))
    @OptionGroup var g: GlobalOptions
    @Option(help: "A file to follow, or - for standard input.") var events: String?
    @Option(help: "Seconds between evaluations, aligned to the clock: 1 to 86400 (default 300, the tick).", transform: seconds(1...86400)) var interval: Int = 300
    @Flag(help: "Stop when the events input ends (instead of waiting for more).") var exitAtEnd = false

    func run() throws {
        // An input that cannot be opened is exit 66 before any database is made.
        if let events { withExtendedLifetime(openInput(events)) {} }
        let db = try g.open()
        let path = g.databasePath
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        // A parent may have started us with these blocked (Foundation's Process does): unblock.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        // The engine's runner: batches committed as lines arrive, evaluation on the clock's
        // boundaries, webhooks on their own thread.
        var configuration = Runner.Configuration()
        configuration.interval = Int64(interval) * 1000
        let log = self.log
        let runner = Runner(configuration: configuration, open: { [region = db.region, account = db.account] in
            try FleetDatabase(path: path, region: region, account: account)
        }, report: { event in
            switch event {
            case .rejected(let line, let message): log("fleetdex: rejected line \(line): \(message)")
            case .evaluated(let at, let ticks, let raised, let cleared, let alerts, let joined, let left):
                log("fleetdex run: evaluated \(ticks) tick(s) to \(Timestamp.iso(at)): \(raised) raised, \(cleared) cleared, \(alerts) alert(s), \(joined) joined, \(left) left")
            case .delivered(let delivered, let failed): log("fleetdex run: webhooks \(delivered) delivered, \(failed) failed")
            case .failed(let message): log("fleetdex run: \(message)")
            }
        })
        try runner.start()
        let step = Int64(interval) * 1000
        log("fleetdex run: database \(path); next evaluation at \(Timestamp.iso((SystemClock().now() / step + 1) * step))")
        let fed = Mutex(false)
        let feeding = Task {
            if let events { try? await runner.feed(FileLines(path: events, follow: events != "-" && !exitAtEnd)) }
            fed.withLock { $0 = true }
        }
        // Until SIGINT/SIGTERM, or with --exit-at-end the end of the input.
        while stopRequested == 0 && !(exitAtEnd && fed.withLock { $0 }) {
            usleep(100_000)
        }
        feeding.cancel()
        let done = DispatchSemaphore(value: 0)
        let totals = Mutex(Presence.Summary())
        Task {
            let t = await runner.stop()
            totals.withLock { $0 = t }
            done.signal()
        }
        done.wait()
        let result = totals.withLock { $0 }
        Output.emit(summary(result), try g.format())
        // As ingest-events: 65 when any line was rejected (after the clean stop: the rest is kept).
        if result.rejected > 0 { throw ExitCode(65) }
    }

    func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
