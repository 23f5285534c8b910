// FleetServer: `fleetdex serve`. The AWS API on one port for the AWS CLI, boto3 and the SDKs
// (`--endpoint-url`), presence over HTTP, and the engine's runner: events committed in
// batches, evaluation on every 5-minute boundary, webhook deliveries on their own thread.
// SIGTERM/SIGINT finish the requests in flight and the batch in hand, then exit 0.
import ArgumentParser
import FleetIndex
import FleetMQTT
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer the AWS wire protocols (iot, iot-data, sns, sqs) with SigV4, presence over HTTP, and MQTT over mutual TLS.",
        discussion: """
            Example:
              fleetdex serve --db fleet.sqlite --port 4510 --access-key-id AKIDLOCAL --secret-access-key s3cret &
              aws iot create-thing --thing-name test_thing --endpoint-url http://127.0.0.1:4510
            Devices connect with MQTT over mutual TLS on --mqtt-port (8883; --no-mqtt turns it off).
            """)

    @Option(help: "The database (else $FLEETDEX_DB, else ./fleetdex.sqlite).") var db: String?
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: any free port, printed on start).") var port = 4510
    @Option(help: "The access key id requests are signed with (else $FLEETDEX_ACCESS_KEY_ID, else test).") var accessKeyId: String?
    @Option(help: "The secret access key (else $FLEETDEX_SECRET_ACCESS_KEY, else test).") var secretAccessKey: String?
    @Option(help: "The region of the credential scope (else $FLEETDEX_REGION, else us-east-1).") var region: String?
    @Option(help: "What describe-endpoint answers.") var endpointAddress = "localhost"
    @Option(help: "A static token accepted for POST /_fleetdex/presence (x-fleetdex-token or Authorization: Bearer).") var presenceToken: String?
    @Option(help: "The largest presence body, in bytes.") var maxPresenceBytes = 64 << 20
    @Flag(help: "GET a topic rule destination's enableUrl when its confirmation arrives (always recorded: 'fleetdex presence-destination').") var confirmDestinations = false
    @Option(help: "Seconds a client has to send a request's head, from connecting or from the last response (slow clients are closed).") var headerTimeout = 60
    @Option(help: "Seconds a client has to send a request's body once its head is in.") var bodyTimeout = 60
    @Option(help: "The MQTT endpoint's port (MQTT over mutual TLS; default 8883, or any free port when --port is 0; 0: any free port, printed on start).") var mqttPort: Int?
    @Flag(help: "Do not start the MQTT endpoint.") var noMqtt = false
    @Option(help: .hidden) var mqttMinimumKeepAlive: Int64 = 30   // tests: AWS's 30 s floor is too slow to wait out
    @Option(help: "The console's saved-query directory (else $FLEETDEX_QUERIES, else DB.queries beside the database).") var queries: String?
    @Option(help: "Threads for the database reads of HTTP requests (default: twice the cores, at least 4); writes have one thread.") var readThreads: Int?
    @Flag(help: "Do not evaluate on the clock (drive time with 'fleetdex evaluate --at' on the same database).") var noEvaluate = false

    public init() {}

    public func run() async throws { try await serve() }

    public func serve() async throws {
        guard headerTimeout > 0, bodyTimeout > 0 else {
            throw ValidationError("--header-timeout and --body-timeout must be at least 1 second")
        }
        guard (1...256).contains(readThreads ?? 1) else { throw ValidationError("--read-threads must be between 1 and 256") }
        let env = ProcessInfo.processInfo.environment
        let path = db ?? env["FLEETDEX_DB"] ?? "fleetdex.sqlite"
        var config = ServerConfiguration(databasePath: path)
        let givenKey = accessKeyId ?? env["FLEETDEX_ACCESS_KEY_ID"]
        let givenSecret = secretAccessKey ?? env["FLEETDEX_SECRET_ACCESS_KEY"]
        config.accessKeyId = givenKey ?? "test"
        config.secretAccessKey = givenSecret ?? "test"
        config.endpointAddress = endpointAddress
        config.presenceToken = presenceToken ?? env["FLEETDEX_PRESENCE_TOKEN"]
        config.maxPresenceBytes = maxPresenceBytes
        config.confirmDestinations = confirmDestinations
        config.queriesDirectory = queries
        let opened = try FleetDatabase(path: path, region: region ?? env["FLEETDEX_REGION"], account: env["FLEETDEX_ACCOUNT"])
        config.region = opened.region
        let open: @Sendable () throws -> FleetDatabase = { try FleetDatabase(path: path) }
        var runnerConfiguration = Runner.Configuration()
        runnerConfiguration.evaluates = !noEvaluate
        let runner = Runner(configuration: runnerConfiguration, open: open, report: { event in
            switch event {
            case .rejected: break   // named in the response to the request that sent it
            case .evaluated(let at, let ticks, let raised, let cleared, let alerts, let joined, let left):
                Self.log("evaluated \(ticks) tick(s) to \(Timestamp.iso(at)): \(raised) raised, \(cleared) cleared, \(alerts) alert(s), \(joined) joined, \(left) left")
            case .delivered(let delivered, let failed):
                Self.log("webhooks: \(delivered) delivered, \(failed) failed")
            case .failed(let m):
                Self.log("error: \(m)")
            }
        })
        try runner.start()
        let dispatcher = Dispatcher(configuration: config, pool: DatabasePool(readThreads: readThreads ?? DatabasePool.defaultReadThreads, open: open), runner: runner)
        if givenKey == nil || givenSecret == nil {
            Self.log("no --access-key-id/--secret-access-key: requests must be signed with the key pair test/test")
        }
        let head = TimeAmount.seconds(Int64(headerTimeout)), body = TimeAmount.seconds(Int64(bodyTimeout))
        var services: [any Service] = [RunnerService(runner: runner)]
        if !noMqtt {
            // After the runner in the list: the endpoint stops first, its last events committed.
            services.append(mqttEndpoint(open: open, runner: runner))
        }
        let server = WireServer(host: host, port: port, headerTimeout: head, bodyTimeout: body)
        try await server.run(dispatcher: dispatcher, services: services, stopsOnSignals: true) { [host, region = config.region] (bound: Int) in
            ServeCommand.log("listening on http://\(host):\(bound) (database \(path), region \(region))")
        }
        Self.log("stopped")
    }

    /// The MQTT endpoint (MQTT 3.1.1/5 over mutual TLS), its lifecycle events through `runner`.
    func mqttEndpoint(open: @escaping @Sendable () throws -> FleetDatabase, runner: Runner) -> MQTTEndpoint {
        var conf = MQTTEndpoint.Configuration()
        conf.host = host
        conf.port = mqttPort ?? (port == 0 ? 0 : 8883)
        conf.minimumKeepAlive = max(1, min(mqttMinimumKeepAlive, 1200))
        // The server certificate names what describe-endpoint answers, beside localhost and 127.0.0.1.
        let isIP = endpointAddress.contains(":") || endpointAddress.allSatisfy { $0.isNumber || $0 == "." }
        if isIP { conf.ipAddresses = Array(Set(conf.ipAddresses + [endpointAddress])).sorted() }
        else { conf.dnsNames = Array(Set(conf.dnsNames + [endpointAddress])).sorted() }
        return MQTTEndpoint(
            configuration: conf, database: DatabasePool(keep: 4, open: open), clock: SystemClock(),
            submit: { events in
                let result = await runner.submit(events.enumerated().map { PresenceInput(line: $0.offset + 1, event: $0.element) })
                for r in result.rejected { ServeCommand.log("mqtt: lifecycle event refused: \(r.message)") }
            },
            onBound: { [host] port in ServeCommand.log("mqtt listening on mqtts://\(host):\(port) (mutual TLS)") })
    }

    static func log(_ s: String) { FileHandle.standardError.write(Data("fleetdex serve: \(s)\n".utf8)) }
}

extension DatabasePool: DatabaseAccess {}

/// Stops the runner (commits the batch in hand) when the server shuts down.
struct RunnerService: Service {
    let runner: Runner
    func run() async throws {
        try? await gracefulShutdown()
        _ = await runner.stop()
    }
}
