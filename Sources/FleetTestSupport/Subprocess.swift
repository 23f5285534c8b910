// FleetTestSupport: programs the tests and the benchmark start: posix_spawn with standard
// input from /dev/null and standard output and error to a file (never a pipe: a server the
// program leaves running, as `pg_ctl start` does, would hold a pipe open).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `argv` (found on the PATH) with stdout and stderr to `log` and `env` over this
    /// process's environment; its pid.
    public static func spawn(_ argv: [String], log: String, env: [String: String] = [:]) throws -> pid_t {
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        var cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cenv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv.first ?? "", &actions, nil, &cargs, &cenv)
        guard rc == 0 else { throw Failure(description: "cannot run \(argv.first ?? ""): error \(rc)") }
        return pid
    }

    /// Waits for `pid` to end: its exit status (128 + the signal when a signal ended it).
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Runs `argv` to its end: exit status and output (stdout + stderr).
    @discardableResult
    public static func run(_ argv: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        defer { unlink(path) }
        let status = wait(try spawn(argv, log: path, env: env))
        return (status, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}
