// fleetdex-bench: the MQTT stage (issue 16's speed figures). fleetdex-server's MQTT endpoint
// and Mosquitto (`require_certificate true`, the same CA, the same server certificate) under
// the same client load from this process (SwiftNIO + NIOSSL, one event loop): mutual-TLS
// handshakes per second (connect, TLS with an ECDSA P-256 client certificate, CONNECT, CONNACK,
// DISCONNECT; RSA 2048 too), then --mqtt-connections idle sessions held open and the server's
// resident memory per connection (VmRSS after minus before). The open-file limit is raised to
// its hard limit first (the servers inherit it). For fleetdex also the lifecycle lag: sessions
// opened at a steady rate (500 a second for 10 s), and for each the time from its CONNACK to
// its `connected` event committed by the runner (seen in the database by this process).
import FleetDevices
import FleetIndex
import FleetMQTT
import FleetTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

struct MQTTBench {
    let bench: Bench
    var o: BenchOptions { bench.o }

    /// Writes CONNECT once TLS is up (NIOSSL holds writes until the handshake is done) and
    /// completes `connack` with the CONNACK's return code.
    final class ConnackWaiter: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let connect: [UInt8]
        let connack: EventLoopPromise<UInt8>
        var done = false
        init(connect: [UInt8], connack: EventLoopPromise<UInt8>) { self.connect = connect; self.connack = connack }
        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: connect)), promise: nil)
            context.fireChannelActive()
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            if !done, b.readableBytes >= 4, let bytes = b.getBytes(at: b.readerIndex, length: 4), bytes[0] == 0x20 {
                done = true
                connack.succeed(bytes[3])
            }
        }
        func channelInactive(context: ChannelHandlerContext) {
            if !done { done = true; connack.fail(ChannelError.eof) }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            if !done { done = true; connack.fail(error) }
            context.close(promise: nil)
        }
    }

    struct Client {
        let group: EventLoopGroup
        let context: NIOSSLContext
        let port: Int

        func open(_ clientId: String, keepAlive: UInt16) -> EventLoopFuture<Channel> {
            let loop = group.next()
            let connack = loop.makePromise(of: UInt8.self)
            let bytes = MQTTEncoder.encode(.connect(.init(version: .v311, clientId: clientId, keepAlive: keepAlive)), version: .v311)
            let context = context
            return ClientBootstrap(group: loop)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try ch.pipeline.syncOperations.addHandler(ConnackWaiter(connect: bytes, connack: connack))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .flatMapError { error in
                    connack.fail(error)    // never left pending when the connection does not open
                    return loop.makeFailedFuture(error)
                }
                .flatMap { ch in
                    connack.futureResult.flatMapThrowing { code in
                        guard code == 0 else { ch.close(promise: nil); throw ChannelError.connectTimeout(.seconds(0)) }
                        return ch
                    }
                }
        }
    }

    static func raiseOpenFileLimit() -> Int {
        var r = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        r.rlim_cur = r.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        return Int(r.rlim_cur)
    }

    static func rssKB(_ pid: pid_t) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb
    }

    func clientContext(cert: String, key: String, ca: String) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(cert.utf8), format: .pem))]
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(ca.utf8), format: .pem)])
        return try NIOSSLContext(configuration: tls)
    }

    /// Handshakes per second: `total` sessions opened and closed, `window` at a time.
    func handshakes(_ client: Client, total: Int, window: Int, prefix: String) -> (rate: Double, failed: Int) {
        let slots = DispatchSemaphore(value: window)
        let all = DispatchGroup()
        let failed = NIOLockedValueBox(0)
        let disconnect: [UInt8] = [0xE0, 0x00]
        let t0 = Bench.clock()
        for i in 0..<total {
            slots.wait()
            all.enter()
            client.open("\(prefix)-\(i)", keepAlive: 60).flatMap { ch in
                ch.writeAndFlush(ch.allocator.buffer(bytes: disconnect)).flatMap { ch.close() }
            }.whenComplete { r in
                if case .failure = r { failed.withLockedValue { $0 += 1 } }
                slots.signal()
                all.leave()
            }
        }
        all.wait()
        return (Double(total) / (Bench.clock() - t0), failed.withLockedValue { $0 })
    }

    struct Lag {
        var achievedRate: Double
        var total: Int
        var failed: Int
        /// Sessions whose event was seen committed, and the CONNACK → commit times (s), sorted.
        var lags: [Double]
        /// The mean time one poll of the database took (the figures' resolution).
        var pollSeconds: Double
        func percentile(_ p: Double) -> Double {
            lags.isEmpty ? .nan : lags[min(lags.count - 1, Int((Double(lags.count) * p).rounded(.up)) - 1)]
        }
    }

    /// Opens `rate` sessions a second for `seconds` (each closed with DISCONNECT right after
    /// its CONNACK; at most 64 in flight, so a slow server lowers the achieved rate) and
    /// measures, for each, the time from its CONNACK to its `connected` event being committed:
    /// the database is polled on a handle of this process until the client's stored
    /// versionNumber appears (Presence.lastVersion, written in the runner's commit).
    func lifecycleLag(_ client: Client, dbPath: String, rate: Int, seconds: Int) throws -> Lag {
        let total = rate * seconds
        let connacks = NIOLockedValueBox<[(Int, Double)]>([])
        let failed = NIOLockedValueBox(0)
        let finished = NIOLockedValueBox(false)
        let all = DispatchGroup()
        let disconnect: [UInt8] = [0xE0, 0x00]
        let t0 = Bench.clock()
        let driver = Thread {
            let slots = DispatchSemaphore(value: 64)
            for i in 0..<total {
                let wait = t0 + Double(i) / Double(rate) - Bench.clock()
                if wait > 0 { usleep(UInt32(wait * 1e6)) }
                slots.wait()
                all.enter()
                client.open("lag-\(i)", keepAlive: 60).flatMap { ch in
                    connacks.withLockedValue { $0.append((i, Bench.clock())) }
                    return ch.writeAndFlush(ch.allocator.buffer(bytes: disconnect)).flatMap { ch.close() }
                }.whenComplete { r in
                    if case .failure = r { failed.withLockedValue { $0 += 1 } }
                    slots.signal()
                    all.leave()
                }
            }
            all.wait()
            finished.withLockedValue { $0 = true }
        }
        driver.start()
        let presence = Presence(try FleetDatabase(path: dbPath))
        var pending: [(Int, Double)] = []
        var lags: [Double] = []
        var polls = 0, pollTime = 0.0
        var sent = 0.0, quietSince: Double?
        while true {
            let done = finished.withLockedValue { $0 }
            pending += connacks.withLockedValue { c in defer { c.removeAll() }; return c }
            let start = Bench.clock()
            var still: [(Int, Double)] = []
            for (i, at) in pending {
                if try presence.lastVersion(clientId: "lag-\(i)") != nil {
                    lags.append(Bench.clock() - at)
                } else {
                    still.append((i, at))
                }
            }
            pending = still
            polls += 1
            pollTime += Bench.clock() - start
            if done {
                if sent == 0 { sent = Bench.clock() - t0 }
                if pending.isEmpty { break }
                // Events never committed: give up after 30 s.
                if quietSince == nil { quietSince = Bench.clock() }
                if Bench.clock() - quietSince! > 30 { break }
            }
            usleep(2_000)
        }
        return Lag(achievedRate: Double(total) / sent, total: total, failed: failed.withLockedValue { $0 },
                   lags: lags.sorted(), pollSeconds: pollTime / Double(max(1, polls)))
    }

    /// Opens `count` idle sessions and returns the server's VmRSS growth per session (KB) and
    /// how many opened; the sessions are closed afterwards.
    func idle(_ client: Client, count: Int, pid: pid_t) -> (perConnectionKB: Double, opened: Int) {
        let before = Self.rssKB(pid)
        let slots = DispatchSemaphore(value: 64)
        let all = DispatchGroup()
        let channels = NIOLockedValueBox<[Channel]>([])
        for i in 0..<count {
            slots.wait()
            all.enter()
            client.open("idle-\(i)", keepAlive: 1200).whenComplete { r in
                if case .success(let ch) = r { channels.withLockedValue { $0.append(ch) } }
                slots.signal()
                all.leave()
            }
        }
        all.wait()
        sleep(2)
        let after = Self.rssKB(pid)
        let open = channels.withLockedValue { $0 }
        for ch in open { ch.close(promise: nil) }
        sleep(2)
        return (open.isEmpty ? 0 : (after - before) / Double(open.count), open.count)
    }

    func freePort() throws -> Int {
        let ch = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = ch.localAddress?.port ?? 0
        try ch.close().wait()
        return port
    }

    func waitForLog(_ log: String, _ marker: String, pid: pid_t) throws -> Int {
        let t0 = Bench.clock()
        while Bench.clock() - t0 < 60 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), let r = text.range(of: marker) {
                if let port = Int(text[r.upperBound...].prefix { $0.isNumber }) { return port }
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        throw FleetError(.internalFailure, "no '\(marker)' in \(log)")
    }

    func waitForPort(_ port: Int) {
        let t0 = Bench.clock()
        while Bench.clock() - t0 < 20 {
            if let ch = try? ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).wait() {
                try? ch.close().wait()
                return
            }
            usleep(50_000)
        }
    }

    func run() throws {
        let limit = Self.raiseOpenFileLimit()
        let dir = o.out + "/mqtt"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let dbPath = dir + "/mqtt.sqlite"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let db = try FleetDatabase(path: dbPath)
        let ca = try CertificateAuthority.rootPEM(db, algorithm: .ecP256, at: now)
        let certs = Certificates(db), policies = Policies(db)
        _ = try policies.createPolicy(name: "bench", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#, at: now)
        func device(_ algorithm: KeyAlgorithm) throws -> (cert: String, key: String) {
            let made = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: algorithm, at: now)
            _ = try policies.attachPolicy(name: "bench", target: made["certificateArn"]!.stringValue!, at: now)
            return (made["certificatePem"]!.stringValue!, made["keyPair"]!["PrivateKey"]!.stringValue!)
        }
        let p256 = try device(.ecP256), rsa = try device(.rsa2048)
        let connections = o.mqttConnections, total = o.mqttHandshakes
        print("  mqtt: open-file limit \(limit); \(connections) idle sessions, \(total) handshakes per run")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }

        // fleetdex-server
        let serve = ServeBench(bench: bench)
        let log = o.out + "/mqtt-serve.log"
        let pid = try Subprocess.spawn([serve.serverBinary, "--db", dbPath, "--port", "0", "--mqtt-port", "0", "--no-evaluate",
                                        "--access-key-id", serve.key, "--secret-access-key", serve.secret], log: log)
        let port = try waitForLog(log, "mqtt listening on mqtts://127.0.0.1:", pid: pid)
        var results: [String: (Double, Double, Double)] = [:]
        func measure(_ name: String, port: Int, pid: pid_t) throws {
            let c256 = Client(group: group, context: try clientContext(cert: p256.cert, key: p256.key, ca: ca), port: port)
            let cRSA = Client(group: group, context: try clientContext(cert: rsa.cert, key: rsa.key, ca: ca), port: port)
            _ = handshakes(c256, total: 100, window: 8, prefix: "warm")
            let h = handshakes(c256, total: total, window: 16, prefix: "hs")
            bench.record("mqtt", "\(name): handshakes/s, ECDSA P-256 client certs (\(h.failed) failed)", h.rate, "/s",
                         target: name == "fleetdex" ? "≥ 500" : "", ok: name == "fleetdex" ? (h.rate >= 500 && h.failed == 0) : nil)
            if name == "fleetdex" {
                sleep(2)   // the handshakes' events committed first
                let lag = try lifecycleLag(c256, dbPath: dbPath, rate: o.mqttLagRate, seconds: o.mqttLagSeconds)
                let what = "fleetdex: CONNACK → connected committed, \(o.mqttLagRate)/s × \(o.mqttLagSeconds) s"
                print("  mqtt: lifecycle lag: \(lag.total) sessions at \(String(format: "%.0f", lag.achievedRate))/s achieved, \(lag.failed) failed, "
                      + "\(lag.lags.count) events seen committed; one database poll \(String(format: "%.1f", lag.pollSeconds * 1000)) ms")
                bench.record("mqtt", what + ", p50", lag.percentile(0.5) * 1000, "ms")
                bench.record("mqtt", what + ", p99", lag.percentile(0.99) * 1000, "ms")
                bench.record("mqtt", what + ", max (\(lag.lags.count)/\(lag.total) seen)", (lag.lags.last ?? .nan) * 1000, "ms", target: "≤ 1000",
                             ok: lag.lags.count == lag.total && lag.failed == 0 && (lag.lags.last ?? .infinity) <= 1.0 && lag.achievedRate >= Double(o.mqttLagRate) * 0.95)
            }
            let r = handshakes(cRSA, total: max(100, total / 4), window: 16, prefix: "rsa")
            bench.record("mqtt", "\(name): handshakes/s, RSA 2048 client certs (\(r.failed) failed)", r.rate, "/s")
            let m = idle(c256, count: connections, pid: pid)
            bench.record("mqtt", "\(name): server memory per idle mTLS session (\(m.opened) open)", m.perConnectionKB, "KB",
                         target: name == "fleetdex" ? "≤ 20" : "", ok: name == "fleetdex" ? (m.opened == connections && m.perConnectionKB <= 20) : nil)
            results[name] = (h.rate, r.rate, m.perConnectionKB)
        }
        try measure("fleetdex", port: port, pid: pid)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)

        // Mosquitto, the same CA and a server certificate from it.
        let mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let mosquitto else { print("  mqtt: no mosquitto (apt-get install mosquitto): comparison skipped"); return }
        let server = try CertificateAuthority.serverCertificate(db, at: now)
        try ca.write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        try server.certificatePEM.write(toFile: dir + "/server.crt", atomically: true, encoding: .utf8)
        try CertificateAuthority.writeOwnerOnly(server.privateKeyPEM, to: dir + "/server.key")
        let mport = try freePort()
        try """
            listener \(mport) 127.0.0.1
            cafile \(dir)/ca.pem
            certfile \(dir)/server.crt
            keyfile \(dir)/server.key
            require_certificate true
            allow_anonymous true
            max_connections -1
            persistence false
            user \(String(cString: getpwuid(getuid()).pointee.pw_name))
            log_dest stderr
            log_type error
            """.write(toFile: dir + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let mpid = try Subprocess.spawn([mosquitto, "-c", dir + "/mosquitto.conf"], log: o.out + "/mqtt-mosquitto.log")
        waitForPort(mport)
        try measure("mosquitto", port: mport, pid: mpid)
        kill(mpid, SIGTERM)
        waitpid(mpid, &status, 0)
        if let f = results["fleetdex"], let m = results["mosquitto"], m.0 > 0, m.2 > 0 {
            bench.record("mqtt", "fleetdex/Mosquitto handshake rate, P-256", f.0 / m.0, "x")
            bench.record("mqtt", "fleetdex/Mosquitto handshake rate, RSA 2048", f.1 / m.1, "x")
            bench.record("mqtt", "fleetdex/Mosquitto memory per idle session", f.2 / m.2, "x")
        }
    }
}
