// A `fleetdex-server` started by a test: its own database and port, stopped with SIGTERM.
import FleetTestSupport
import Foundation
import Testing

/// The engine a served database runs on.
enum ServerBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }
}

final class ServerProcess {
    let process = Process()
    let dir: URL
    let port: Int
    private let stderr = Pipe()
    /// The server's database: a file in its folder, or a PostgreSQL database's URL.
    let database: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The directory holding the built executables (.build/<config>/).
    static let binaries: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fleetdex-server").path) && url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-server-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-server-tests-\(getpid())").path) }
        return root
    }()

    /// A server on a new database of `backend` (PostgreSQL: one of the tests' throwaway cluster).
    init(_ extra: [String] = ["--no-evaluate"], on backend: ServerBackend = .sqlite) throws {
        dir = Self.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        switch backend {
        case .sqlite: database = dir.appendingPathComponent("fleet.sqlite").path
        case .postgres: database = try PostgresCluster.shared().database()
        }
        // `fleetdex serve` runs fleetdex-server in its place: the same process, signals and all.
        process.executableURL = Self.binaries.appendingPathComponent("fleetdex")
        process.arguments = ["serve", "--db", database, "--port", "0",
                             "--access-key-id", "AKIDLOCAL", "--secret-access-key", "s3cret"] + extra
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The server names its port on its first line.
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil && Date() < deadline {
            let d = stderr.fileHandleForReading.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
            if let r = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[r.upperBound...].prefix { $0.isNumber }
                if !digits.isEmpty, text[r.upperBound...].dropFirst(digits.count).first == " " { found = Int(digits) }
            }
        }
        guard let found else {
            process.terminate()
            throw ServerStartError(log: text)
        }
        port = found
        startLine = text.split(separator: "\n").first { $0.contains("listening on http://") }.map(String.init) ?? ""
    }

    /// The server's line naming its address and database (the MQTT endpoint logs its own).
    private(set) var startLine = ""

    struct ServerStartError: Error, CustomStringConvertible {
        let log: String
        var description: String { "fleetdex-server did not start: \(log)" }
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Runs a program to its end; (exit status, stdout + stderr).
    static func run(_ args: [String], env: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
