// fleetdex-server: `fleetdex serve`. The CLI runs this executable, so linking the server's
// libraries costs the other commands nothing at start-up.
import FleetServer

let parsed: ServeCommand
do {
    parsed = try ServeCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    ServeCommand.exit(withError: error)
}
do {
    try await parsed.serve()
} catch {
    ServeCommand.exit(withError: error)
}
