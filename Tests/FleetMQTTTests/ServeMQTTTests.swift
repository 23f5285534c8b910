// `fleetdex serve` with its MQTT endpoint: the walkthrough's device (the AWS IoT Device SDK v2)
// connects with its certificate, and the thing's connectivity in search follows, through the
// server's runner; SIGTERM ends the session with SERVER_INITIATED_DISCONNECT before the runner stops.
import FleetIndex
import Foundation
import Testing

@Suite struct ServeMQTTTests {
    /// The directory holding the built executables (.build/<config>/).
    static let binaries: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fleetdex-server").path) && url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    func search(_ path: String, _ query: String) throws -> [String] {
        let r = try Search(try FleetDatabase(path: path)).searchIndex(indexName: nil, query: query, maxResults: nil, nextToken: nil, at: Timestamp.parse("2030-01-01T00:00:00Z")!)
        return (r["things"]?.arrayValue ?? []).compactMap { $0["thingName"]?.stringValue }
    }

    func eventually(_ seconds: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    @Test(.enabled(if: MQTTTestBed.hasPython("awsiot"), "awsiotsdk is not installed (scripts/setup.sh)"))
    func deviceConnectivityThroughServe() async throws {
        let bed = try await MQTTTestBed()
        await bed.stop()   // only its database and devices are used: serve runs the endpoint
        let d = try bed.device("test_thing", policy: MQTTTestBed.policy(allow: [("iot:Connect", "arn:aws:iot:us-east-1:123456789012:client/test_thing")]))
        let server = Process()
        server.executableURL = Self.binaries.appendingPathComponent("fleetdex")
        server.arguments = ["serve", "--db", bed.path, "--port", "0", "--no-evaluate", "--access-key-id", "AKIDLOCAL", "--secret-access-key", "s3cret"]
        let err = Pipe()
        server.standardError = err
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        var text = ""
        var mqttPort: Int?
        let deadline = Date().addingTimeInterval(30)
        while mqttPort == nil && Date() < deadline {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let r = text.range(of: "mqtt listening on mqtts://127.0.0.1:") {
                mqttPort = Int(text[r.upperBound...].prefix { $0.isNumber })
            }
        }
        let port = try #require(mqttPort, "serve did not name its MQTT port: \(text)")
        #expect(port != 8883)   // --port 0: any free port for MQTT too
        // The device stays connected until the test has seen it so (a line on its stdin), so a
        // slow machine cannot make the connected state pass unseen.
        let script = ClientScripts.sdk.replacingOccurrences(of: "conn.disconnect().result(timeout=10)", with: "sys.stdout.flush(); sys.stdin.readline(); conn.disconnect().result(timeout=10)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, String(port), bed.caFile, d.certFile, d.keyFile, "test_thing"]
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        p.standardError = FileHandle.nullDevice
        try p.run()
        #expect(try await eventually(600) { try search(bed.path, "thingName:test_thing AND connectivity.connected:true") == ["test_thing"] })
        input.fileHandleForWriting.write(Data("\n".utf8))
        p.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "CONNECTED\nDISCONNECTED\n")
        #expect(try await eventually {
            try search(bed.path, "thingName:test_thing AND connectivity.connected:false AND connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT") == ["test_thing"]
        })
        // Connected again, then serve stops: the session ends with SERVER_INITIATED_DISCONNECT, committed.
        let again = Process()
        again.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        again.arguments = ["python3", "-c", script, String(port), bed.caFile, d.certFile, d.keyFile, "test_thing"]
        let againInput = Pipe()
        again.standardInput = againInput   // never written: connected until serve stops
        again.standardOutput = FileHandle.nullDevice
        again.standardError = FileHandle.nullDevice
        try again.run()
        defer { if again.isRunning { again.terminate() } }
        #expect(try await eventually(600) { try search(bed.path, "thingName:test_thing AND connectivity.connected:true") == ["test_thing"] })
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        #expect(try search(bed.path, "connectivity.disconnectReason:SERVER_INITIATED_DISCONNECT") == ["test_thing"])
    }

    /// The walkthrough with the Device SDK as the device (WalkthroughScript), through serve.
    @Test(.enabled(if: MQTTTestBed.hasPython("awsiot") && MQTTTestBed.hasPython("boto3"), "awsiotsdk or boto3 is not installed (scripts/setup.sh)"))
    func walkthroughWithTheSDKAsTheDevice() async throws {
        let dir = mqttTestRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("fleet.sqlite").path
        let server = Process()
        server.executableURL = Self.binaries.appendingPathComponent("fleetdex")
        server.arguments = ["serve", "--db", db, "--port", "0", "--no-evaluate", "--access-key-id", "AKIDLOCAL", "--secret-access-key", "s3cret"]
        let err = Pipe()
        server.standardError = err
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        var text = ""
        var http: Int?, mqtt: Int?
        let deadline = Date().addingTimeInterval(30)
        while (http == nil || mqtt == nil) && Date() < deadline {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let r = text.range(of: "listening on http://127.0.0.1:") { http = Int(text[r.upperBound...].prefix { $0.isNumber }) }
            if let r = text.range(of: "mqtt listening on mqtts://127.0.0.1:") { mqtt = Int(text[r.upperBound...].prefix { $0.isNumber }) }
        }
        let httpPort = try #require(http, "\(text)"), mqttPort = try #require(mqtt, "\(text)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", WalkthroughScript.python, "http://127.0.0.1:\(httpPort)", String(mqttPort), db,
                       Self.binaries.appendingPathComponent("fleetdex").path, dir.path]
        let out = Pipe(), perr = Pipe()
        p.standardOutput = out
        p.standardError = perr
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: perr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let checks = o.split(separator: "\n").filter { $0.hasPrefix("CHECK ") }
        #expect(checks.count == 11, "\(o)\n\(e)")
        for c in checks { #expect(c.hasSuffix(" ok"), "\(c)") }
        #expect(o.hasSuffix("DONE\n"), "\(o)\n\(e)")
    }
}
