// A client that goes away cancels its request: the server runs in process (the application
// serve runs), a raw socket sends a signed SearchIndex whose handler is made slow on purpose
// (it searches again and again inside a transaction for up to ten minutes), the socket is
// closed once the handler has started, and the work must stop: the call is counted as
// cancelled, the handler ends long before its ten minutes, its handle is pooled again
// outside any transaction, and the next request on the same pool is answered.
import Crypto
@testable import FleetServer
import FleetIndex
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct CancellationTests {
    /// What the slow handler tells the test (set from the server's tasks).
    final class Probe: @unchecked Sendable {
        private let lock = NSLock()
        private var started = false, ended = false, iterations = 0, failure = ""
        func start() { lock.withLock { started = true } }
        func step() { lock.withLock { iterations += 1 } }
        func end(_ error: (any Error)?) { lock.withLock { ended = true; failure = error.map { "\($0)" } ?? "" } }
        var state: (started: Bool, ended: Bool, iterations: Int, failure: String) { lock.withLock { (started, ended, iterations, failure) } }
    }

    /// Polls `condition` every 10 ms for up to `seconds` (generous: a loaded machine is slow,
    /// and a pass returns at once). Blocking: called off Swift's cooperative threads (see
    /// `offPool`).
    static func eventually(_ seconds: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// Runs blocking socket work on a thread of its own: the client must not hold one of Swift's
    /// cooperative threads (as many as cores), which the server's tasks need, while it waits.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in Thread { c.resume(returning: body()) }.start() }
    }

    /// A request signed with SigV4 (header form) as the AWS CLI signs it.
    static func signedRequest(method: String, path: String, body: String, port: Int, service: String = "iot") -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let date = SigV4.amzDate(now)
        let host = "127.0.0.1:\(port)"
        let bytes = Array(body.utf8)
        let payload = SigV4.hex(SHA256.hash(data: bytes))
        let r = SignedRequest(method: method, rawPath: path, rawQuery: "",
                              headers: [("host", host), ("x-amz-date", date), ("x-amz-content-sha256", payload)], body: bytes)
        let signer = SigV4(accessKeyId: "AKIDLOCAL", secretAccessKey: "s3cret", region: "us-east-1", services: [service])
        let canonical = try! signer.canonicalRequest(r, signedHeaders: "host;x-amz-content-sha256;x-amz-date", payloadHash: payload,
                                                     excludingSignatureParameter: false)
        let scope = "\(date.prefix(8))/us-east-1/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(date)\n\(scope)\n\(SigV4.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let signature = SigV4.signature(secret: "s3cret", date: String(date.prefix(8)), region: "us-east-1", service: service, stringToSign: toSign)
        return "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nX-Amz-Date: \(date)\r\nX-Amz-Content-SHA256: \(payload)\r\n"
            + "Content-Type: application/x-amz-json-1.1\r\nContent-Length: \(bytes.count)\r\n"
            + "Authorization: AWS4-HMAC-SHA256 Credential=AKIDLOCAL/\(scope), SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=\(signature)\r\n\r\n"
            + body
    }

    /// A TCP connection to 127.0.0.1:`port` (a file descriptor).
    static func connect(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads until the peer closes or a whole response (head and Content-Length body) is in.
    static func readResponse(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += chunk[0..<n]
            let text = String(decoding: data, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { return text }
            }
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct NoPort: Error {}

    /// The wire server on a free port for `dispatcher`: its task and the port.
    static func serve(_ dispatcher: Dispatcher) async throws -> (Task<Void, Error>, Int) {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = Task<Void, Error> {
            _ = try await WireServer(port: 0).run(dispatcher: dispatcher) { portSink.yield($0) }
        }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else {
            server.cancel()
            throw NoPort()
        }
        return (server, port)
    }

    /// A database of 200 things in a folder of its own (removed by the caller).
    static func fleet() throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-cancel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("fleet.sqlite").path
        let r = Registry(try FleetDatabase(path: path))
        for n in 0..<200 { _ = try r.createThing(name: "pump-\(n)", typeName: nil, attributes: [("site", "denver")], at: 0) }
        return (dir, path)
    }

    /// The server's configuration for `path`, with the tests' key pair.
    static func configuration(_ path: String) -> ServerConfiguration {
        var config = ServerConfiguration(databasePath: path)
        config.accessKeyId = "AKIDLOCAL"
        config.secretAccessKey = "s3cret"
        return config
    }

    @Test func aClosedConnectionCancelsItsRequest() async throws {
        let (dir, path) = try Self.fleet()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = Self.configuration(path)
        let pool = DatabasePool(open: { try FleetDatabase(path: path) })
        let probe = Probe()
        // SearchIndex made slow: the same search again and again, inside a write transaction,
        // for up to ten minutes.
        let slow: OperationHandler = { c, i in
            probe.start()
            do {
                let r = try c.db.transaction { () throws -> JSONValue in
                    let until = Date().addingTimeInterval(600)
                    var last = JSONValue.null
                    while Date() < until {
                        last = try Search(c.db).searchIndex(indexName: nil, query: i.required("queryString"), maxResults: 100, nextToken: nil, at: c.now)
                        probe.step()
                    }
                    return last
                }
                probe.end(nil)
                return r
            } catch {
                probe.end(error)
                throw error
            }
        }
        let dispatcher = Dispatcher(configuration: config, pool: pool, runner: nil,
                                    handlers: { service, op in service == "iot" && op == "SearchIndex" ? slow : Operations.handler(service: service, operation: op) })
        let (server, port) = try await Self.serve(dispatcher)
        defer { server.cancel() }

        // The client: sends the search, closes its socket once the search runs, and waits
        // for the work to stop: counted as cancelled, the handle back in the pool.
        let request = Self.signedRequest(method: "POST", path: "/indices/search", body: #"{"queryString":"thingName:pump-*"}"#, port: port)
        let (started, stopped) = await Self.offPool { () -> (Bool, Bool) in
            guard let fd = try? Self.connect(port) else { return (false, false) }
            Self.send(fd, request)
            // Patient: under the whole suite on two cores the request's task can queue behind
            // other suites' synchronous tests on Swift's cooperative threads for minutes (two
            // full runs saw more than 60 s); the client must not close before the search runs.
            let started = Self.eventually(600) { probe.state.iterations > 0 }
            close(fd)
            return (started, Self.eventually(600) { pool.statistics.cancelled == 1 && pool.idleCount == 1 })
        }
        #expect(started, "the slow search started")
        #expect(stopped, "\(pool.statistics), idle \(pool.idleCount), \(probe.state)")
        // The handler went out with SQLite's interrupt (not its ten minutes), its handle back in
        // the pool outside any transaction.
        let s = probe.state
        #expect(s.ended && s.failure.contains("interrupt"), "\(s)")
        #expect(pool.statistics.discarded == 0)
        try await Task.sleep(for: .milliseconds(200))
        #expect(probe.state.iterations == s.iterations, "no search runs after the cancellation")
        let pooled = try pool.with { db in (db.connection.isInTransaction, db.connection.sqlite!.busyStatementCount) }
        #expect(pooled == (false, 0))
        // Its transaction is gone: another connection writes at once (a held lock would keep it
        // waiting the 5 s busy timeout, then fail).
        _ = try Registry(try FleetDatabase(path: path)).createThing(name: "after", typeName: nil, attributes: nil, at: 0)

        // The server goes on answering, on the same pool.
        let describe = Self.signedRequest(method: "GET", path: "/things/after", body: "", port: port)
        let answer = await Self.offPool { () -> String in
            guard let fd = try? Self.connect(port) else { return "cannot connect" }
            defer { close(fd) }
            Self.send(fd, describe)
            return Self.readResponse(fd)
        }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
        #expect(answer.contains(#""thingName":"after""#))
        #expect(pool.statistics.cancelled == 1)
        server.cancel()
        _ = await server.result
    }

    /// An uncancelled request is not stopped: the same slow path with a short loop returns its
    /// answer, and nothing is counted as cancelled.
    @Test func aRequestWhoseClientStaysIsAnswered() async throws {
        let (dir, path) = try Self.fleet()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = Self.configuration(path)
        let pool = DatabasePool(open: { try FleetDatabase(path: path) })
        let dispatcher = Dispatcher(configuration: config, pool: pool, runner: nil)
        let (server, port) = try await Self.serve(dispatcher)
        defer { server.cancel() }
        let request = Self.signedRequest(method: "POST", path: "/indices/search", body: #"{"queryString":"thingName:pump-1*","maxResults":500}"#, port: port)
        let answers = await Self.offPool { () -> [String] in
            guard let fd = try? Self.connect(port) else { return [] }
            defer { close(fd) }
            return (0..<3).map { _ in
                Self.send(fd, request)
                return Self.readResponse(fd)
            }
        }
        #expect(answers.count == 3)
        for answer in answers {
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
            #expect(Self.count(#""thingName":"#, in: answer) == 111)
        }
        #expect(pool.statistics == DatabasePool.Counts(opened: 1, cancelled: 0, discarded: 0))
        server.cancel()
        _ = await server.result
    }

    static func count(_ needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }
}
