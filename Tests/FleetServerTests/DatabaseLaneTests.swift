// Blocking database work runs on the pool's own threads, never on Swift's cooperative threads:
// writes held up (here, handlers that wait until the test lets them go, as a write waits for
// another process's write lock) and slow reads do not keep the server from answering other
// reads; writes run one at a time, in order; reads run side by side. The server runs in process
// and raw sockets are its clients (CancellationTests' helpers).
@testable import FleetServer
import FleetDevices
import FleetIndex
import FleetSQLite
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import X509
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DatabaseLaneTests {
    /// Handlers that wait until let go, counting how many run at once.
    final class Gate: @unchecked Sendable {
        private let lock = NSCondition()
        private var open = false, running = 0, most = 0, entered = 0
        /// Waits (up to ten minutes) until `release`, counted as running meanwhile.
        func pass() {
            lock.lock()
            entered += 1
            running += 1
            most = max(most, running)
            let until = Date().addingTimeInterval(600)
            while !open && Date() < until { _ = lock.wait(until: until) }
            running -= 1
            lock.unlock()
        }
        func release() { lock.lock(); open = true; lock.broadcast(); lock.unlock() }
        var state: (entered: Int, running: Int, most: Int) { lock.lock(); defer { lock.unlock() }; return (entered, running, most) }
    }

    typealias C = CancellationTests

    /// Sends each request on a connection of its own, each from a thread of its own; returns
    /// the answers in order once all are in.
    static func sendAll(_ requests: [String], port: Int) async -> [String] {
        await withTaskGroup(of: (Int, String).self) { group in
            for (i, r) in requests.enumerated() {
                group.addTask {
                    await C.offPool { () -> (Int, String) in
                        guard let fd = try? C.connect(port) else { return (i, "cannot connect") }
                        defer { close(fd) }
                        C.send(fd, r)
                        return (i, C.readResponse(fd))
                    }
                }
            }
            var out = [String](repeating: "", count: requests.count)
            for await (i, a) in group { out[i] = a }
            return out
        }
    }

    /// A server on a fleet of its own whose `operation` (iot) waits at `gate` before it runs.
    struct GatedServer {
        let dir: URL, path: String, gate: Gate, server: Task<Void, Error>, port: Int

        static func start(gating operation: String, readThreads: Int) async throws -> GatedServer {
            let (dir, path) = try C.fleet()
            let gate = Gate()
            let (server, port) = try await serve(path, readThreads: readThreads, operation) { c, i in
                gate.pass()
                return try Operations.handler(service: "iot", operation: operation)!(c, i)
            }
            return GatedServer(dir: dir, path: path, gate: gate, server: server, port: port)
        }

        /// A server on the fleet at `path` whose iot `operation` is answered by `handler`.
        static func serve(_ path: String, readThreads: Int = 2, _ operation: String,
                          _ handler: @escaping OperationHandler) async throws -> (server: Task<Void, Error>, port: Int) {
            let pool = DatabasePool(readThreads: readThreads, open: { try FleetDatabase(path: path) })
            let dispatcher = Dispatcher(configuration: C.configuration(path), pool: pool, runner: nil,
                                        handlers: { service, op in service == "iot" && op == operation ? handler : Operations.handler(service: service, operation: op) })
            return try await C.serve(dispatcher)
        }

        /// Lets the gate go, stops the server and removes the fleet.
        func stop() async {
            gate.release()
            server.cancel()
            _ = await server.result
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// Four writes held up at once (more than Swift's cooperative threads on this machine kind)
    /// leave reads answered; the writes ran one at a time and all finish once let go.
    @Test func heldWritesHoldUpNoRead() async throws {
        let bed = try await GatedServer.start(gating: "CreateThing", readThreads: 2)
        let (gate, path, port) = (bed.gate, bed.path, bed.port)

        let writes = (0..<4).map { C.signedRequest(method: "POST", path: "/things/new-\($0)", body: "{}", port: port) }
        async let written = Self.sendAll(writes, port: port)
        // The first write is in its handler; the others wait behind it, not beside it.
        let first = await C.offPool { C.eventually(600) { gate.state.entered >= 1 } }
        #expect(first, "\(gate.state)")
        // A read of one item (in place), a search (a read thread) and the health check.
        let reads = [C.signedRequest(method: "GET", path: "/things/pump-7", body: "", port: port),
                     C.signedRequest(method: "POST", path: "/indices/search", body: #"{"queryString":"thingName:pump-7*"}"#, port: port),
                     "GET /_fleetdex/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]
        let answered = await Self.sendAll(reads, port: port)
        #expect(gate.state.running == 1, "the reads were answered while the write was held: \(gate.state)")
        #expect(answered[0].hasPrefix("HTTP/1.1 200") && answered[0].contains(#""thingName":"pump-7""#), "\(answered[0].prefix(300))")
        #expect(answered[1].hasPrefix("HTTP/1.1 200") && C.count(#""thingName":"#, in: answered[1]) == 11, "\(answered[1].prefix(300))")
        #expect(answered[2].hasPrefix("HTTP/1.1 200") && answered[2].contains(#""status":"ok""#), "\(answered[2].prefix(300))")
        gate.release()
        let answers = await written
        for a in answers { #expect(a.hasPrefix("HTTP/1.1 200"), "\(a.prefix(300))") }
        #expect(gate.state.entered == 4 && gate.state.most == 1, "writes one at a time: \(gate.state)")
        let registry = Registry(try FleetDatabase(path: path))
        for n in 0..<4 { #expect(try registry.describeThing(name: "new-\(n)")["thingName"]?.stringValue == "new-\(n)") }
        await bed.stop()
    }

    /// Slow reads run side by side, as many as the read threads, and a read of one item is
    /// answered beside them.
    @Test func slowReadsRunSideBySide() async throws {
        let bed = try await GatedServer.start(gating: "SearchIndex", readThreads: 3)
        let (gate, port) = (bed.gate, bed.port)

        let searches = (0..<3).map { _ in C.signedRequest(method: "POST", path: "/indices/search", body: #"{"queryString":"thingName:pump-1*"}"#, port: port) }
        async let searched = Self.sendAll(searches, port: port)
        let all = await C.offPool { C.eventually(600) { gate.state.running == 3 } }
        #expect(all, "three reads at once: \(gate.state)")
        let answered = await Self.sendAll([C.signedRequest(method: "GET", path: "/things/pump-3", body: "", port: port)], port: port)
        #expect(answered[0].hasPrefix("HTTP/1.1 200") && answered[0].contains(#""thingName":"pump-3""#), "\(answered[0].prefix(300))")
        #expect(gate.state.running == 3)
        gate.release()
        for a in await searched {
            #expect(a.hasPrefix("HTTP/1.1 200"), "\(a.prefix(300))")
            #expect(C.count(#""thingName":"#, in: a) == 100, "the first page of thingName:pump-1*")
        }
        await bed.stop()
    }

    /// CreateKeysAndCertificate's RSA key is made before its handler gets the write thread, and
    /// it is the key the response carries and the certificate certifies.
    @Test func aDeviceKeyIsMadeBeforeTheWriteThread() async throws {
        let (dir, path) = try C.fleet()
        defer { try? FileManager.default.removeItem(at: dir) }
        let handed = NIOLockedValueBox<[String?]>([])
        let (server, port) = try await GatedServer.serve(path, "CreateKeysAndCertificate") { c, i in
            handed.withLockedValue { $0.append(try? (c.prepared as? DeviceKeyPair)?.publicKeyPEM()) }
            return try Operations.handler(service: "iot", operation: "CreateKeysAndCertificate")!(c, i)
        }
        let requests = (0..<3).map { _ in C.signedRequest(method: "POST", path: "/keys-and-certificate", body: "", port: port) }
        let answers = await Self.sendAll(requests, port: port)
        server.cancel()
        _ = await server.result
        let keys = handed.withLockedValue { $0 }
        #expect(keys.count == 3 && keys.allSatisfy { $0?.hasPrefix("-----BEGIN PUBLIC KEY-----") == true }, "\(keys)")
        #expect(Set(keys).count == 3, "a key of its own for each request")
        for a in answers {
            #expect(a.hasPrefix("HTTP/1.1 200"), "\(a.prefix(300))")
            let body = try JSONValue.parse(String(a[a.range(of: "\r\n\r\n")!.upperBound...]))
            let publicKey = body["keyPair"]?["PublicKey"]?.stringValue
            #expect(keys.contains(publicKey), "the response's key is the one made beforehand")
            let cert = try Certificate(pemEncoded: body["certificatePem"]?.stringValue ?? "")
            #expect(try cert.publicKey.serializeAsPEM().pemString == publicKey)
        }
    }

    /// Writes queued behind another process's write lock that stays held fail about when the
    /// first of them does, not one busy timeout after another (each one's wait is counted from
    /// when it was queued); the handles get their usual busy timeout back, and once the lock goes
    /// a write goes through.
    @Test func queuedWritesGiveUpTogetherBehindAHeldLock() async throws {
        let (dir, path) = try C.fleet()
        defer { try? FileManager.default.removeItem(at: dir) }
        let deadline = TimeAmount.milliseconds(400), writes = 6
        let pool = DatabasePool(readThreads: 2, writeDeadline: deadline, open: { try FleetDatabase(path: path) })
        try pool.with { db in try db.setMeta("lane-test", "before") }
        let other = try Connection(path: path)
        try other.execute(script: "BEGIN IMMEDIATE; UPDATE meta SET value = 'held' WHERE key = 'lane-test';")
        let clock = ContinuousClock(), sent = clock.now
        let waits = NIOLockedValueBox<[Int]>([])
        let failures = await withTaskGroup(of: String?.self) { group in
            for i in 0..<writes {
                group.addTask {
                    do {
                        try await pool.run(.write) { db in
                            waits.withLockedValue { $0.append(db.connection.busyTimeout ?? -1) }
                            try db.setMeta("lane-test", "write \(i)")
                        }
                        return nil
                    } catch { return "\(error)" }
                }
            }
            var out: [String] = []
            for await f in group { if let f { out.append(f) } }
            return out
        }
        let took = clock.now - sent
        try other.execute(script: "ROLLBACK;")
        #expect(failures.count == writes, "every write fails while the lock is held")
        #expect(failures.allSatisfy { $0.contains("locked") }, "\(failures)")
        // Each write's wait is what is left of its 400 ms when its turn comes: the first one
        // waits out the rest of its deadline, so by the time the next one runs every later
        // deadline has passed too and each gets only its last look at the lock (100 ms), not a
        // busy timeout of its own (which would be 6 x 400 ms = 2.4 s in all). The waits are
        // what the pool set, not timings, so a loaded machine does not change them.
        let given = waits.withLockedValue { $0 }
        #expect(given.count == writes, "\(given)")
        #expect((100...400).contains(given.first ?? 0), "\(given)")
        #expect(given.dropFirst().allSatisfy { $0 == 100 }, "\(given)")
        #expect(took >= .milliseconds(400), "\(took)")
        try await pool.run(.write) { db in try db.setMeta("lane-test", "after") }
        #expect(try pool.with { db in try db.meta("lane-test") } == "after")
        #expect(try pool.with { db in db.connection.busyTimeout } == Connection.defaultBusyTimeout)
    }
}
