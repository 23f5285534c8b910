// fleetdex-bench: the serve stage (issue 15's speed figures). fleetdex-server is started on
// the benchmark's database and loaded with wrk: DescribeThing as presigned GETs, the selective
// searches with signed headers (scripts/serve-sign.py signs them once, valid 15 minutes;
// scripts/serve-wrk.lua repeats them); the same searches in process on as many threads as
// cores give the fraction. Presence over HTTP (batches of 500) against ingest-events on two
// copies of one freshly imported database, the same events; the moto peer's fleet and queries
// through moto's server and fleetdex-server with one boto3 client (scripts/serve-moto.py);
// the server's peak RSS (VmHWM) after the load.
import FleetIndex
import FleetSQLite
import FleetTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ServeBench {
    let bench: Bench
    var o: BenchOptions { bench.o }
    let key = "AKIDLOCAL", secret = "s3cret", token = "bench-presence-token"

    // MARK: processes

    /// A started fleetdex-server (or moto_server): its pid and port.
    final class Server {
        let pid: pid_t
        let port: Int
        let name: String
        init(pid: pid_t, port: Int, name: String) { self.pid = pid; self.port = port; self.name = name }
        var url: String { "http://127.0.0.1:\(port)" }

        /// VmHWM (peak resident set) from /proc, in MB.
        var peakRSSMB: Double {
            guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                  let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
            return kb / 1024
        }

        func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<100 {
                if waitpid(pid, &status, WNOHANG) == pid { return }
                usleep(100_000)
            }
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }


    var serverBinary: String {
        URL(fileURLWithPath: bench.binary).deletingLastPathComponent().appendingPathComponent("fleetdex-server").path
    }

    /// Starts fleetdex-server on `db` (--port 0) and waits for its "listening on" line.
    func startServer(db: String, name: String, extra: [String] = []) throws -> Server {
        let log = o.out + "/\(name).log"
        let pid = try Subprocess.spawn([serverBinary, "--db", db, "--port", "0", "--access-key-id", key, "--secret-access-key", secret, "--no-evaluate"] + extra, log: log)
        let t0 = Bench.clock()
        while Bench.clock() - t0 < 60 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), let r = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[r.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return Server(pid: pid, port: port, name: name) }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw FleetError(.internalFailure, "fleetdex-server exited; see \(log)") }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        throw FleetError(.internalFailure, "fleetdex-server did not start in 60 s; see \(log)")
    }

    /// Runs a program to the end; returns its exit status and stdout.
    @discardableResult
    static func run(_ argv: [String], env: [String: String] = [:], stderrTo: String? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        if let stderrTo {
            FileManager.default.createFile(atPath: stderrTo, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: stderrTo)
        }
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    // MARK: wrk

    struct WrkResult {
        var requestsPerSecond: Double
        var p50: Double, p90: Double, p99: Double, max: Double   // ms
        var requests: Int, non2xx: Int, socketErrors: Int
        var raw: JSONValue
    }

    /// Signs `args` (serve-sign.py) into `file`.
    func sign(_ server: Server, _ args: [String], file: String) throws {
        let (status, _) = try Self.run(["python3", o.scripts + "/serve-sign.py", "--endpoint", server.url, "--key", key, "--secret", secret,
                                        "--region", "us-east-1", "--out", file] + args, stderrTo: o.out + "/serve-sign.log")
        guard status == 0 else { throw FleetError(.internalFailure, "serve-sign.py failed; see \(o.out)/serve-sign.log") }
    }

    func wrk(_ server: Server, requests file: String, connections: Int = 32, seconds: Int? = nil) throws -> WrkResult {
        let (status, out) = try Self.run(["wrk", "-t", "\(max(1, ProcessInfo.processInfo.processorCount))", "-c", "\(connections)",
                                          "-d", "\(seconds ?? o.serveSeconds)s", "--timeout", "5s", "-s", o.scripts + "/serve-wrk.lua", server.url],
                                         env: ["FLEETDEX_WRK_REQUESTS": file], stderrTo: o.out + "/wrk.log")
        guard status == 0, let line = out.split(separator: "\n").first(where: { $0.hasPrefix("FLEETDEX_WRK ") }),
              let doc = try? JSONValue.parse(String(line.dropFirst("FLEETDEX_WRK ".count))) else {
            throw FleetError(.internalFailure, "wrk failed (is it installed? apt-get install wrk): \(out)")
        }
        func n(_ k: String) -> Double { doc[k]?.doubleValue ?? 0 }
        return WrkResult(requestsPerSecond: n("requests") / (n("duration_us") / 1e6), p50: n("p50_us") / 1000, p90: n("p90_us") / 1000,
                         p99: n("p99_us") / 1000, max: n("max_us") / 1000, requests: Int(n("requests")), non2xx: Int(n("non2xx")),
                         socketErrors: Int(n("connect") + n("read") + n("write") + n("timeout")), raw: doc)
    }

    /// `body` on as many threads as cores for `seconds`, each with a database handle of its
    /// own; returns calls per second.
    func inProcessRate(seconds: Double, _ body: @escaping @Sendable (FleetDatabase, Int) throws -> Void) throws -> Double {
        let threads = ProcessInfo.processInfo.processorCount
        let shared = Counters(threads)
        let path = bench.dbPath
        let t0 = Bench.clock()
        Self.parallel(threads) { t in
            guard let db = try? FleetDatabase(path: path) else { return }
            var n = 0
            while Bench.clock() - t0 < seconds {
                try? body(db, n * threads + t)
                n += 1
            }
            shared.add(t, n)
        }
        return Double(shared.values.reduce(0, +)) / (Bench.clock() - t0)
    }

    /// `body(0..<n)` on n threads of their own (concurrentPerform runs no more at once than there are cores).
    static func parallel(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchSemaphore(value: 0)
        for i in 0..<n {
            let t = Thread { body(i); done.signal() }
            t.start()
        }
        for _ in 0..<n { done.wait() }
    }

    /// Counts added to from several threads.
    final class Counters: @unchecked Sendable {
        private let lock = NSLock()
        private var v: [Int]
        init(_ n: Int) { v = Array(repeating: 0, count: n) }
        func add(_ i: Int, _ n: Int) { lock.lock(); v[i] += n; lock.unlock() }
        /// The first counter's value before adding one to it.
        func take() -> Int { lock.lock(); defer { lock.unlock() }; v[0] += 1; return v[0] - 1 }
        var values: [Int] { lock.lock(); defer { lock.unlock() }; return v }
    }

    // MARK: the stage

    func run() throws {
        try bench.db.connection.sqlite!.execute(script: "PRAGMA wal_checkpoint(TRUNCATE)")
        let server = try startServer(db: bench.dbPath, name: "serve-server")
        defer { server.stop() }
        print("  serve: fleetdex-server pid \(server.pid) on \(server.url), wrk -t\(ProcessInfo.processInfo.processorCount) -c32 -d\(o.serveSeconds)s")
        try describe(server)
        try searches(server)
        let rss = server.peakRSSMB
        bench.record("serve", "fleetdex-server peak RSS (VmHWM) after the DescribeThing and SearchIndex load", rss, "MB", target: "< 300 at 1M", ok: rss < 300)
        // Each part on its own: one that fails is named, and the figures of the others are kept.
        do { try presence() } catch { print("  serve: the presence comparison failed: \(error)") }
        if o.moto { do { try moto() } catch { print("  serve: the moto comparison failed: \(error)") } }
    }

    func describe(_ server: Server) throws {
        let names = (0..<64).map { FleetGenerator.name(($0 * 7919) % o.things) }
        let file = o.out + "/serve-describe.lua"
        try sign(server, ["--describe"] + names, file: file)
        try check(file, server, expect: nil)
        let r = try wrk(server, requests: file)
        bench.extra["serve.describe"] = r.raw
        bench.record("serve", "DescribeThing over HTTP: presigned GET, 64 URLs, 32 connections (wrk)", r.requestsPerSecond, "req/s", target: ">= 5000", ok: r.requestsPerSecond >= 5000)
        bench.record("serve", "DescribeThing p50 latency", r.p50, "ms")
        bench.record("serve", "DescribeThing p99 latency", r.p99, "ms", target: "< 20", ok: r.p99 < 20)
        bench.record("serve", "DescribeThing responses not 200 (of \(r.requests)), socket errors \(r.socketErrors)", Double(r.non2xx), "responses", target: "0", ok: r.non2xx == 0 && r.socketErrors == 0)
        let things = o.things
        let inProc = try inProcessRate(seconds: 3) { db, i in _ = try Registry(db).describeThing(name: FleetGenerator.name(((i % 64) * 7919) % things)) }
        bench.record("serve", "DescribeThing in process, \(ProcessInfo.processInfo.processorCount) threads", inProc, "calls/s")
        bench.record("serve", "DescribeThing over HTTP as a fraction of in process", r.requestsPerSecond / inProc, "x")
    }

    func searches(_ server: Server) throws {
        for label in ["exact attribute", "disconnected at a site"] {
            let q = Bench.queries.first { $0.0 == label }!.1
            let file = o.out + "/serve-search-\(label.replacingOccurrences(of: " ", with: "-")).lua"
            try sign(server, ["--search", q], file: file)
            let expected = try Search(bench.db).searchIndex(indexName: nil, query: q, maxResults: 100, nextToken: nil, at: bench.start)["things"]?.arrayValue?.count ?? 0
            try check(file, server, expect: expected)
            let r = try wrk(server, requests: file)
            bench.extra["serve.search.\(label)"] = r.raw
            let inProc = try inProcessRate(seconds: 3) { db, _ in _ = try Search(db).searchIndex(indexName: nil, query: q, maxResults: 100, nextToken: nil, at: 0) }
            bench.record("serve", "SearchIndex \(label) (\(q)) [\(expected)], signed POST, 32 connections", r.requestsPerSecond, "req/s", target: ">= 2000", ok: r.requestsPerSecond >= 2000)
            bench.record("serve", "  p50 latency", r.p50, "ms")
            bench.record("serve", "  p99 latency", r.p99, "ms", target: "< 20", ok: r.p99 < 20)
            bench.record("serve", "  responses not 200 (of \(r.requests)), socket errors \(r.socketErrors)", Double(r.non2xx), "responses", target: "0", ok: r.non2xx == 0 && r.socketErrors == 0)
            bench.record("serve", "  the same search in process, \(ProcessInfo.processInfo.processorCount) threads", inProc, "calls/s")
            let f = r.requestsPerSecond / inProc
            bench.record("serve", "  HTTP as a fraction of in process (same cores)", f, "x", target: ">= 0.5", ok: f >= 0.5)
        }
    }

    /// Sends every request of `file` once (serve-sign.py --check): each must be 200 and, for a
    /// search, return `expect` things.
    func check(_ file: String, _ server: Server, expect: Int?) throws {
        let (status, out) = try Self.run(["python3", o.scripts + "/serve-sign.py", "--check", file, "--endpoint", server.url, "--key", key, "--secret", secret, "--out", "/dev/null"],
                                         stderrTo: o.out + "/serve-check.log")
        guard status == 0, let doc = try? JSONValue.parse(out), let results = doc.arrayValue else {
            throw FleetError(.internalFailure, "serve-sign.py --check failed; see \(o.out)/serve-check.log")
        }
        for r in results {
            let code = r["status"]?.int64Value ?? 0
            if code != 200 {
                print("  serve: \(r["method"]?.stringValue ?? "") \(r["path"]?.stringValue?.prefix(60) ?? "") answered \(code): \(r["body"]?.stringValue ?? "")")
            } else if let expect, let n = r["things"]?.int64Value, n != expect {
                print("  serve: the search returned \(n) things over HTTP, \(expect) in process")
            }
        }
    }

    // MARK: presence

    /// An HTTP/1.1 keep-alive connection to 127.0.0.1.
    final class HTTPConnection {
        let fd: Int32
        var buffer: [UInt8] = []
        /// Whether the last response said the server closes the connection after it.
        var closes = false
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { close(fd); throw FleetError(.internalFailure, "cannot connect to port \(port)") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        deinit { close(fd) }

        /// Sends one request; returns the status and the body.
        func send(_ head: String, _ body: [UInt8]) throws -> (Int, [UInt8]) {
            let bytes = Array(head.utf8) + body
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw FleetError(.internalFailure, "write failed") }
                off += n
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            func fill() throws {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw FleetError(.internalFailure, "the server closed the connection") }
                buffer += chunk[0..<n]
            }
            var end: Int?
            while end == nil {
                if buffer.count >= 4 { end = (0...(buffer.count - 4)).first { buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10 } }
                if end == nil { try fill() }
            }
            let headText = String(decoding: buffer[0..<end!], as: UTF8.self)
            let status = Int(headText.split(separator: " ").dropFirst().first ?? "") ?? 0
            var length = 0
            closes = headText.hasPrefix("HTTP/1.0")
            for line in headText.split(separator: "\r\n") {
                let l = line.lowercased()
                if l.hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                } else if l.hasPrefix("connection:") {
                    closes = l.contains("close") ? true : l.contains("keep-alive") ? false : closes
                }
            }
            while buffer.count < end! + 4 + length { try fill() }
            let out = Array(buffer[(end! + 4)..<(end! + 4 + length)])
            buffer.removeFirst(end! + 4 + length)
            return (status, out)
        }
    }

    /// Batches of `size` lines of a JSON Lines file, handed out in file order under a lock.
    final class Batches: @unchecked Sendable {
        let reader: LineReader
        let size: Int
        let lock = NSLock()
        var taken = 0
        init(_ path: String, size: Int) throws { reader = try LineReader(path: path); self.size = size }
        func next() -> [UInt8]? {
            lock.lock()
            defer { lock.unlock() }
            var body: [UInt8] = []
            var lines = 0
            while lines < size, let line = reader.next() {
                if line.isEmpty { continue }
                body += line
                body.append(10)
                lines += 1
            }
            taken += lines
            return lines == 0 ? nil : body
        }
    }

    func presence() throws {
        // The events the ingest stage ingested (its generator, written to DIR/events.jsonl).
        if !FileManager.default.fileExists(atPath: bench.eventsPath) {
            var gen = FleetGenerator(seed: o.seed)
            try gen.writeFleet(o.things, to: o.out + "/fleet-again.jsonl")
            try? FileManager.default.removeItem(atPath: o.out + "/fleet-again.jsonl")
            try gen.writeEvents(things: o.things, events: o.events ?? o.things * 5, start: bench.start, disconnectedShare: 0.02, to: bench.eventsPath)
        }
        // One freshly imported database, copied: one copy for each.
        let a = o.out + "/serve-presence-a.sqlite", b = o.out + "/serve-presence-b.sqlite"
        for p in [a, b] { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: p + s) } }
        do {
            _ = try Importer(try FleetDatabase(path: a)).importThings(try LineReader(path: bench.fleetPath), at: bench.start)
            // A new connection (see stageImport: the import's connection cannot ANALYZE).
            try FleetDatabase(path: a).connection.sqlite!.execute(script: "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        }
        try FileManager.default.copyItem(atPath: a, toPath: b)
        // ingest-events in process, as the ingest stage runs it.
        let (local, localRate): (Presence.Summary, Double) = try {
            let db = try FleetDatabase(path: a)
            let (s, ms) = try bench.time { try Presence(db).ingest(try LineReader(path: bench.eventsPath), batch: 20_000, rejected: { _, _ in }) }
            return (s, Double(s.accepted + s.duplicate + s.stale) / (ms / 1000))
        }()
        // The same events over HTTP.
        let server = try startServer(db: b, name: "serve-presence", extra: ["--presence-token", token])
        defer { server.stop() }
        let batches = try Batches(bench.eventsPath, size: 500)
        let connections = o.presenceConnections
        let shared = Counters(5)
        let port = server.port, token = token
        let t0 = Bench.clock()
        Self.parallel(connections) { _ in
            guard let conn = try? HTTPConnection(port: port) else { shared.add(4, 1); return }
            while let body = batches.next() {
                let head = "POST /_fleetdex/presence HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/x-ndjson\r\nx-fleetdex-token: \(token)\r\nContent-Length: \(body.count)\r\n\r\n"
                guard let (status, reply) = try? conn.send(head, body), status == 200, let doc = try? JSONValue.parse(bytes: reply) else { shared.add(4, 1); continue }
                for (i, k) in ["accepted", "duplicate", "stale", "rejected"].enumerated() { shared.add(i, Int(doc[k]?.int64Value ?? 0)) }
            }
        }
        let seconds = Bench.clock() - t0
        let sum = shared.values
        let httpRate = Double(sum[0] + sum[1] + sum[2]) / seconds
        let rss = server.peakRSSMB
        bench.record("serve", "ingest-events in process, \(local.accepted + local.duplicate + local.stale) events (batch 20,000)", localRate, "events/s")
        bench.record("serve", "presence over HTTP, batches of 500, \(connections) connections (\(sum[0]) accepted, \(sum[1]) dup, \(sum[2]) stale)", httpRate, "events/s")
        let ratio = httpRate / localRate
        bench.record("serve", "presence over HTTP as a fraction of ingest-events", ratio, "x", target: ">= 0.8", ok: ratio >= 0.8)
        let same = sum[0] == local.accepted && sum[1] == local.duplicate && sum[2] == local.stale && sum[3] == local.rejected && sum[4] == 0
        bench.record("serve", "presence outcome counts as ingest-events' (accepted, dup, stale, rejected; \(sum[4]) failed requests)", same ? 1 : 0, "same", target: "1", ok: same)
        bench.record("serve", "fleetdex-server peak RSS (VmHWM) after the presence load", rss, "MB", target: "< 300 at 1M", ok: rss < 300)
        bench.extra["serve.presence"] = jsonObject([("httpSeconds", .double(seconds)), ("connections", .int(connections)),
                                                    ("http", .array(sum.map { .int($0) })),
                                                    ("local", .array([local.accepted, local.duplicate, local.stale, local.rejected].map { .int($0) }))])
        if !same { print("  serve: presence over HTTP \(sum) vs in process \([local.accepted, local.duplicate, local.stale, local.rejected])") }
    }

    // MARK: moto

    func moto() throws {
        let queries = o.motoQueries
        let script = URL(fileURLWithPath: queries).deletingLastPathComponent().appendingPathComponent("moto_fleet.py").path
        guard FileManager.default.fileExists(atPath: queries), FileManager.default.fileExists(atPath: script) else {
            print("  serve: no \(queries) (with moto_fleet.py beside it); the moto comparison is skipped")
            return
        }
        let dataset = o.out + "/moto_fleet.jsonl"
        if !FileManager.default.fileExists(atPath: dataset) {
            guard try Self.run(["python3", script, "--generate", "20000", "--seed", "7", "--write-dataset", dataset]).0 == 0 else {
                throw FleetError(.internalFailure, "moto_fleet.py --generate failed")
            }
        }
        let dbPath = o.out + "/serve-moto-peer.sqlite"
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + s) }
        do {
            _ = try Importer(try FleetDatabase(path: dbPath)).importThings(try LineReader(path: dataset), at: 0)
            try FleetDatabase(path: dbPath).connection.sqlite!.execute(script: "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        }
        let server = try startServer(db: dbPath, name: "serve-moto-fleetdex")
        defer { server.stop() }
        let motoPort = Self.freePort()
        let motoPid = try Subprocess.spawn(["moto_server", "-H", "127.0.0.1", "-p", "\(motoPort)"], log: o.out + "/serve-moto-server.log")
        let moto = Server(pid: motoPid, port: motoPort, name: "moto")
        defer { moto.stop() }
        // Ready when it accepts a connection.
        let t0 = Bench.clock()
        while (try? HTTPConnection(port: motoPort)) == nil {
            guard Bench.clock() - t0 < 60 else { throw FleetError(.internalFailure, "moto_server did not start; see \(o.out)/serve-moto-server.log") }
            usleep(100_000)
        }
        let result = o.out + "/serve-moto.json", requests = o.out + "/serve-moto-requests"
        let (status, _) = try Self.run(["python3", o.scripts + "/serve-moto.py", "--fleetdex", server.url, "--moto", moto.url, "--key", key, "--secret", secret,
                                        "--dataset", dataset, "--queries", queries, "--rounds", "\(o.motoRounds)", "--out", result,
                                        "--requests-out", requests],
                                       stderrTo: o.out + "/serve-moto.log")
        guard status == 0, let doc = try? JSONValue.parse(String(contentsOfFile: result, encoding: .utf8)) else {
            throw FleetError(.internalFailure, "serve-moto.py failed; see \(o.out)/serve-moto.log")
        }
        // The same pages from a compiled client: every query paged to the end, the list
        // `motoRounds` times, on one keep-alive connection and then on 2 per core.
        // fleetdex's replays first: every request was signed once, before the timed rounds, and
        // a signature is good for 15 minutes (past them each page would be a quick 403).
        var replays: [JSONValue] = []
        let counts = [1, 2 * ProcessInfo.processInfo.processorCount]
        let ours = try counts.map { try replay(requests + "-fleetdex.json", port: server.port, connections: $0, rounds: o.motoRounds) }
        for (connections, f) in zip(counts, ours) {
            let m = try replay(requests + "-moto.json", port: motoPort, connections: connections, rounds: o.motoRounds)
            let x = m.queriesPerSecond > 0 ? f.queriesPerSecond / m.queriesPerSecond : 0
            bench.record("serve", "moto peer, compiled client, \(connections) keep-alive connection\(connections == 1 ? "" : "s"): fleetdex-server (\(f.pages) pages, \(f.failures) not 200)",
                         f.queriesPerSecond, "queries/s")
            bench.record("serve", "  moto_server, the same queries and rounds (\(m.pages) pages, \(m.failures) not 200)", m.queriesPerSecond, "queries/s")
            bench.record("serve", "  fleetdex-server SearchIndex throughput as a multiple of moto_server's, \(connections) connection\(connections == 1 ? "" : "s")", x, "x",
                         target: ">= 50", ok: x >= 50 && f.failures == 0 && m.failures == 0)
            replays.append(jsonObject([("connections", .int(connections)), ("fleetdex", f.json), ("moto", m.json)]))
        }
        bench.extra["serve.moto.replay"] = .array(replays)
        let n = doc["queries"]?.doubleValue ?? 0
        let differ = doc["differ"]?.arrayValue ?? []
        bench.record("serve", "moto peer over HTTP (20,000 things, \(Int(n)) queries): identical result sets", doc["agree"]?.doubleValue ?? 0, "queries")
        bench.record("serve", "  differing where moto's notes say it departs from AWS", doc["documented"]?.doubleValue ?? 0, "queries")
        bench.record("serve", "  differing otherwise", Double(differ.count), "queries", target: "0", ok: differ.isEmpty)
        let fx = doc["fleetdexQueriesPerSecond"]?.doubleValue ?? 0, mo = doc["motoQueriesPerSecond"]?.doubleValue ?? 0
        let raw = Int(doc["rawAgree"]?.doubleValue ?? 0)
        bench.record("serve", "  fleetdex-server: http.client keep-alive, each query paged to the end (500 a page), \(o.motoRounds) rounds", fx, "queries/s")
        bench.record("serve", "  moto_server: the same client, queries and rounds (\(raw) of \(Int(n)) with the same names from both)", mo, "queries/s")
        let x = mo > 0 ? fx / mo : 0
        bench.record("serve", "  fleetdex-server SearchIndex throughput as a multiple of moto_server's", x, "x", target: ">= 50", ok: x >= 50)
        bench.record("serve", "  median per-query speed-up (moto ms / fleetdex ms)", doc["medianPerQuerySpeedup"]?.doubleValue ?? 0, "x")
        let one = doc["onePage"]
        bench.record("serve", "  the same, over the \(Int(one?["queries"]?.doubleValue ?? 0)) queries whose answer is one page (<= 500 things)", one?["speedup"]?.doubleValue ?? 0, "x")
        let b = doc["boto3"]
        bench.record("serve", "  with boto3 as the client (once each; its parsing, ~30 us a thing, bounds both)", b?["speedup"]?.doubleValue ?? 0, "x")
        bench.extra["serve.moto"] = jsonObject([("client", doc["client"]), ("load", doc["load"]), ("differ", .array(differ)), ("boto3", doc["boto3"])])
        if !differ.isEmpty { print("  serve: differing queries: \(differ.prefix(5).compactMap(\.stringValue).joined(separator: " | "))") }
    }

    // MARK: replay

    /// What `replay` measured.
    struct ReplayResult {
        /// Queries whose every page was answered 200 (only those count), pages sent, pages not 200.
        var queries: Int, pages: Int, failures: Int, seconds: Double
        var queriesPerSecond: Double { seconds > 0 ? Double(queries) / seconds : 0 }
        var json: JSONValue {
            jsonObject([("queries", .int(queries)), ("pages", .int(pages)), ("notOK", .int(failures)), ("seconds", .double(seconds)),
                        ("queriesPerSecond", .double(queriesPerSecond))])
        }
    }

    /// Sends the signed pages of `file` (serve-moto.py --requests-out): each query's pages in
    /// order on one connection, the queries handed out in list order `rounds` times to
    /// `connections` threads with a keep-alive connection each (opened again when the server
    /// closes it). Bodies are read whole (by Content-Length, which both servers send) and not
    /// parsed, as wrk reads them.
    func replay(_ file: String, port: Int, connections: Int, rounds: Int) throws -> ReplayResult {
        let doc = try JSONValue.parse(String(contentsOfFile: file, encoding: .utf8))
        let queries: [[(String, [UInt8])]] = (doc["queries"]?.arrayValue ?? []).map { q in
            (q["pages"]?.arrayValue ?? []).map { p in
                let body = Array((p["body"]?.stringValue ?? "").utf8)
                var head = "\(p["method"]?.stringValue ?? "POST") \(p["path"]?.stringValue ?? "/") HTTP/1.1\r\n"
                for m in p["headers"]?.objectValue ?? [] where m.key.lowercased() != "content-length" {
                    head += "\(m.key): \(m.value.stringValue ?? "")\r\n"
                }
                head += "Content-Length: \(body.count)\r\n\r\n"
                return (head, body)
            }
        }
        guard !queries.isEmpty else { throw FleetError(.internalFailure, "no queries in \(file)") }
        let units = queries.count * rounds
        let next = Counters(1), shared = Counters(3)   // queries done, pages sent, not 200
        let t0 = Bench.clock()
        Self.parallel(connections) { _ in
            var conn = try? HTTPConnection(port: port)
            while true {
                let k = next.take()
                guard k < units else { return }
                var ok = true
                for (head, body) in queries[k % queries.count] {
                    // A connection the server closed unannounced is opened again once.
                    var answer: (HTTPConnection, Int)? = nil
                    for _ in 0..<2 where answer == nil {
                        if conn == nil { conn = try? HTTPConnection(port: port) }
                        if let c = conn, let (status, _) = try? c.send(head, body) { answer = (c, status) } else { conn = nil }
                    }
                    guard let (c, status) = answer else { shared.add(2, 1); ok = false; continue }
                    shared.add(1, 1)
                    if status != 200 { shared.add(2, 1); ok = false }
                    if c.closes { conn = nil }
                }
                if ok { shared.add(0, 1) }
            }
        }
        let seconds = Bench.clock() - t0
        let v = shared.values
        return ReplayResult(queries: v[0], pages: v[1], failures: v[2], seconds: seconds)
    }
}
