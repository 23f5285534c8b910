// FleetTestSupport: a throwaway PostgreSQL cluster for the tests: `initdb` into a temporary
// folder, `pg_ctl` on a free loopback port, stopped and removed when the test process exits.
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user that
// Debian's postgresql package creates (through `runuser`). `$FLEETDEX_TEST_POSTGRES_URL`
// names a server to use instead (each test still makes a database of its own).
import Foundation

/// One PostgreSQL server for the whole test process; `database()` makes a fresh database.
public final class PostgresCluster: @unchecked Sendable {
    // @unchecked: `counter` is only touched under `lock`; the rest is immutable after init.
    public let baseURL: String
    private let dataDir: String?
    private let runAs: String?
    private let bin: String?
    private let lock = NSLock()
    private var counter = 0

    public struct Unavailable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "PostgreSQL for the tests: \(reason)" }
    }

    /// The process's cluster, started on first use.
    public static func shared() throws -> PostgresCluster {
        try started.get()
    }

    private static let started: Result<PostgresCluster, Error> = Result { try PostgresCluster() }

    /// The directory of `initdb` and `pg_ctl`: `pg_config --bindir`, else Debian's
    /// /usr/lib/postgresql/<newest>/bin, else the PATH.
    static func binaryDirectory() -> String? {
        let fm = FileManager.default
        if let out = try? run(["pg_config", "--bindir"]), out.status == 0 {
            let dir = out.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if fm.isExecutableFile(atPath: dir + "/initdb") { return dir }
        }
        if let versions = try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            for v in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) where fm.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
                return "/usr/lib/postgresql/\(v)/bin"
            }
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/initdb") {
            return String(dir)
        }
        return nil
    }

    private init() throws {
        if let url = ProcessInfo.processInfo.environment["FLEETDEX_TEST_POSTGRES_URL"], !url.isEmpty {
            baseURL = url
            dataDir = nil
            runAs = nil
            bin = nil
            return
        }
        guard let bin = Self.binaryDirectory() else {
            throw Unavailable(reason: "initdb was not found (install Debian's postgresql-15: scripts/setup.sh does)")
        }
        self.bin = bin
        let runAs: String? = geteuid() == 0 ? "postgres" : nil
        self.runAs = runAs
        func wrap(_ args: [String]) -> [String] { Self.wrap(args, as: runAs) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        dataDir = dir
        if let user = runAs {
            guard let pw = getpwnam(user) else {
                throw Unavailable(reason: "running as root needs the user \(user) to run the server (Debian's postgresql package makes it)")
            }
            chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        let data = dir + "/data"
        let initdb = try Self.run(wrap(["\(bin)/initdb", "-D", data, "-U", "fleetdex", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]))
        guard initdb.status == 0 else { throw Unavailable(reason: "initdb failed: \(initdb.output)") }
        var lastLog = ""
        for _ in 0..<5 {
            let port = try Self.freePort()
            let options = "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            let start = try Self.run(wrap(["\(bin)/pg_ctl", "-D", data, "-o", options, "-l", dir + "/server.log", "-w", "-t", "30", "start"]))
            if start.status == 0 {
                baseURL = "postgres://fleetdex@127.0.0.1:\(port)"
                let stop = wrap(["\(bin)/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
                Self.atExit.append((stop, dir))
                return
            }
            lastLog = start.output + ((try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? "")
        }
        throw Unavailable(reason: "pg_ctl start failed: \(lastLog)")
    }

    /// A database of its own, created empty: its URL.
    public func database() throws -> String {
        lock.lock()
        counter += 1
        let name = "t\(getpid())_\(counter)"
        lock.unlock()
        let out = try Self.run(["psql", "\(baseURL)/postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", "CREATE DATABASE \(name)"])
        guard out.status == 0 else { throw Unavailable(reason: "CREATE DATABASE failed: \(out.output)") }
        return "\(baseURL)/\(name)"
    }

    /// `args` run as `user` (through runuser) when one is given.
    private static func wrap(_ args: [String], as user: String?) -> [String] {
        guard let user else { return args }
        return ["runuser", "-u", user, "--"] + args
    }

    nonisolated(unsafe) private static var atExit: [([String], String)] = {
        atexit {
            for (stop, dir) in PostgresCluster.atExit {
                _ = try? PostgresCluster.run(stop)
                try? FileManager.default.removeItem(atPath: dir)
            }
        }
        return []
    }()

    /// A free loopback TCP port (bound and released; PostgreSQL binds it next).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(reason: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw Unavailable(reason: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Runs a program to its end: exit status and output (`Subprocess.run`, through a file:
    /// `pg_ctl start` leaves a server running that would hold a pipe open).
    @discardableResult
    public static func run(_ args: [String]) throws -> (status: Int32, output: String) { try Subprocess.run(args) }
}
