// FleetServer: the HTTP server of serve, as one Hummingbird application: the wire responder,
// the read timeouts and the disconnect watch on every connection. ServeCommand runs it; the
// tests run it in process.
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

struct WireServer {
    var host = "127.0.0.1"
    /// 0: any free port (`onRunning` is told which).
    var port = 4510
    var headerTimeout = TimeAmount.seconds(60)
    var bodyTimeout = TimeAmount.seconds(60)
    var idleTimeout = TimeAmount.seconds(120)

    func application(dispatcher: Dispatcher, services: [any Service] = [], logger: Logger,
                     onRunning: @escaping @Sendable (Int) async -> Void) -> Application<WireResponder> {
        let connections = DisconnectWatch.Registry()
        let head = headerTimeout, body = bodyTimeout
        return Application(
            responder: WireResponder(dispatcher: dispatcher, connections: connections),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestTimeouts(head: head, body: body), DisconnectWatch(registry: connections)],
                idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(host, port: port), serverName: "fleetdex"),
            services: services,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs the server until SIGTERM or SIGINT (`stopsOnSignals`) or the task's cancellation
    /// stops it; the requests in flight are finished first.
    func run(dispatcher: Dispatcher, services: [any Service] = [], stopsOnSignals: Bool = false,
             onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        var logger = Logger(label: "fleetdex")
        logger.logLevel = .warning
        let app = application(dispatcher: dispatcher, services: services, logger: logger, onRunning: onRunning)
        if stopsOnSignals {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } else {
            try await app.runService(gracefulShutdownSignals: [])
        }
    }
}
