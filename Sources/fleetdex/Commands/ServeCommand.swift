// fleetdex serve: runs the fleetdex-server executable beside this one with the same
// arguments. The server's libraries (HTTP, TLS, crypto) live there, so every other command
// starts as fast as before.
import ArgumentParser
import Foundation

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        command: "serve",
        abstract: "Serve the AWS API (iot, iot-data, sns, sqs) with SigV4, and presence over HTTP ('fleetdex serve --help').",
        discussion: example("fleetdex serve --db fleet.sqlite --port 4510 --access-key-id AKIDLOCAL --secret-access-key s3cret"))

    /// Replaces this process with fleetdex-server; returns only when that cannot be done.
    static func exec(_ arguments: [String]) -> Never {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let server = me.deletingLastPathComponent().appendingPathComponent("fleetdex-server").path
        let argv = [server] + arguments
        var cargs = argv.map { strdup($0) } + [nil]
        execv(server, &cargs)
        Output.error("InternalFailureException", "cannot run \(server): \(String(cString: strerror(errno))) (it is built with fleetdex: swift build)")
        Foundation.exit(1)
    }
}
