// The MQTT endpoint's test bed: a fresh database in its own folder, its CA, devices with
// certificates and policies written as files for real clients, the endpoint running in the
// test process on a free port with a manual clock, and every lifecycle event it submits.
// Real clients (mosquitto_pub/sub, paho-mqtt, the AWS IoT Device SDK v2) run as processes.
import FleetDevices
import FleetIndex
import FleetMQTT
import NIOCore
import Foundation
import Testing

let mqttTestRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-mqtt-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-mqtt-tests-\(getpid())").path) }
    return root
}()

/// Bytes as lowercase hex (the raw client's `send:` and `R` lines).
func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

/// Opens a handle per call (the tests' DatabaseAccess).
struct Opener: DatabaseAccess {
    let path: String
    func with<T>(_ body: (FleetDatabase) throws -> T) throws -> T { try body(try FleetDatabase(path: path)) }
}

/// The lifecycle events the endpoint submitted, in order.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [LifecycleEvent] = []
    func append(_ e: [LifecycleEvent]) { lock.lock(); items += e; lock.unlock() }
    var events: [LifecycleEvent] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A device: its certificate and key as files, its certificate id and ARN.
struct Device {
    let clientId: String
    let certificateId: String
    let certificateArn: String
    let certFile: String
    let keyFile: String
}

/// `@unchecked Sendable`: its members are set in init and not changed after.
final class MQTTTestBed: @unchecked Sendable {
    static let t0 = Timestamp.parse("2026-11-28T10:00:00Z")!
    let dir: URL
    let path: String
    let clock = ManualClock(MQTTTestBed.t0)
    let log = EventLog()
    let endpoint: MQTTEndpoint
    let port: Int
    let caFile: String

    /// `submit`: where events go (default: the log only); `ingest`: then also stored in the
    /// database (as the runner commits them), so the stored versionNumber follows.
    /// `idleBufferRelease`: how long a session is quiet before its TLS buffers go back.
    init(minimumKeepAlive: Int64 = 1, ingest: Bool = false, idleBufferRelease: Duration = .seconds(1),
         submit: LifecycleSink.Submit? = nil) async throws {
        dir = mqttTestRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("fleet.sqlite").path
        let db = try FleetDatabase(path: path, region: "us-east-1", account: "123456789012")
        caFile = dir.appendingPathComponent("root-ca.pem").path
        try CertificateAuthority.rootPEM(db, algorithm: .ecP256, at: Self.t0).write(toFile: caFile, atomically: true, encoding: .utf8)
        var conf = MQTTEndpoint.Configuration()
        conf.port = 0
        conf.minimumKeepAlive = minimumKeepAlive
        conf.idleBufferRelease = .init(idleBufferRelease)
        let log = log, path = path
        endpoint = MQTTEndpoint(configuration: conf, database: Opener(path: path), clock: clock, submit: { events in
            log.append(events)
            await submit?(events)
            if ingest, let db = try? FleetDatabase(path: path) {
                for e in events { _ = try? Presence(db).ingest(e) }
            }
        })
        port = try await endpoint.start()
    }

    func stop() async { await endpoint.stop() }

    func db() throws -> FleetDatabase { try FleetDatabase(path: path) }

    /// A policy allowing iot:* on everything except what `deny` names (as Deny statements).
    static func policy(allow: [(String, String)] = [("iot:*", "*")], deny: [(String, String)] = []) -> String {
        let s = allow.map { #"{"Effect":"Allow","Action":"\#($0.0)","Resource":"\#($0.1)"}"# }
            + deny.map { #"{"Effect":"Deny","Action":"\#($0.0)","Resource":"\#($0.1)"}"# }
        return #"{"Version":"2012-10-17","Statement":[\#(s.joined(separator: ","))]}"#
    }

    /// A thing named `clientId` with a new ACTIVE P-256 certificate attached, and a policy.
    func device(_ clientId: String, policy: String = MQTTTestBed.policy(), status: String = "ACTIVE", thing: Bool = true) throws -> Device {
        let db = try db()
        let certs = Certificates(db)
        let made = try certs.createKeysAndCertificate(setAsActive: true, keyAlgorithm: .ecP256, at: Self.t0)
        let id = made["certificateId"]!.stringValue!, arn = made["certificateArn"]!.stringValue!
        let certFile = dir.appendingPathComponent("\(clientId)-\(id.prefix(8)).crt").path
        let keyFile = dir.appendingPathComponent("\(clientId)-\(id.prefix(8)).key").path
        try made["certificatePem"]!.stringValue!.write(toFile: certFile, atomically: true, encoding: .utf8)
        try made["keyPair"]!["PrivateKey"]!.stringValue!.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let policyName = "p-\(id.prefix(12))"
        _ = try Policies(db).createPolicy(name: policyName, document: policy, at: Self.t0)
        _ = try Policies(db).attachPolicy(name: policyName, target: arn, at: Self.t0)
        if thing {
            if (try? Registry(db).describeThing(name: clientId)) == nil {
                _ = try Registry(db).createThing(name: clientId, typeName: nil, attributes: nil, at: Self.t0)
            }
            _ = try certs.attachThingPrincipal(thingName: clientId, principal: arn, type: nil, at: Self.t0)
        }
        if status != "ACTIVE" { _ = try certs.updateCertificate(id: id, newStatus: status, at: Self.t0) }
        return Device(clientId: clientId, certificateId: id, certificateArn: arn, certFile: certFile, keyFile: keyFile)
    }

    /// A self-signed certificate and key from outside (openssl), not registered.
    func foreignDevice(_ clientId: String) throws -> Device {
        let cert = dir.appendingPathComponent("foreign.crt").path, key = dir.appendingPathComponent("foreign.key").path
        let r = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                             "-keyout", key, "-out", cert, "-subj", "/CN=\(clientId)", "-days", "2"], timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        return Device(clientId: clientId, certificateId: "", certificateArn: "", certFile: cert, keyFile: key)
    }

    /// Waits (up to `seconds`) until `condition` holds over the events submitted.
    func waitFor(_ seconds: Double = 10, _ condition: ([LifecycleEvent]) -> Bool) async -> [LifecycleEvent] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            await endpoint.drainEvents()
            if condition(log.events) { return log.events }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return log.events
    }

    // MARK: processes

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    /// Runs a program to its end (killed after `timeout` seconds).
    func run(_ executable: String, _ args: [String], timeout: Double = 30) throws -> Output {
        let (p, out, err) = try start(executable, args)
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Starts a program and returns it running (its output read at the end by `finish`);
    /// `input`: its standard input.
    func start(_ executable: String, _ args: [String], input: Pipe? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = dir
        if let input { p.standardInput = input }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    /// Reads `pipe` until a line starting with `prefix` came (or the output ended); what was read.
    static func readUntil(_ pipe: Pipe, _ prefix: String) -> String {
        var text = ""
        while !text.split(separator: "\n").contains(where: { $0.hasPrefix(prefix) }) {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        return text
    }

    /// A Python script run with the endpoint's port, CA and the given devices as arguments.
    func python(_ script: String, _ args: [String], timeout: Double = 60) throws -> Output {
        try run("/usr/bin/env", ["python3", "-c", script, String(port), caFile] + args, timeout: timeout)
    }

    static func has(_ program: String) -> Bool {
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + program) }
    }

    static func hasPython(_ module: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import \(module)"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}
