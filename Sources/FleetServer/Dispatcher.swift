// FleetServer: one port, every service. A request is authenticated (SigV4, whose credential
// scope names the service), routed to its protocol (iot and iot-data: rest-json; sns: query;
// sqs: JSON 1.0, or query for older SDKs), bound to an operation's members, answered by the
// engine, and serialized back. `/_fleetdex/…` are fleetdex's own paths.
import FleetDevices
import FleetIndex
import Foundation
import NIOPosix

/// The server's settings.
public struct ServerConfiguration: Sendable {
    public var databasePath: String
    public var accessKeyId = "test"
    public var secretAccessKey = "test"
    public var region = "us-east-1"
    /// What `describe-endpoint` returns and the server certificate names.
    public var endpointAddress = "localhost"
    /// A static token for `POST /_fleetdex/presence` (`x-fleetdex-token` or `Authorization: Bearer`),
    /// as a topic rule's HTTP action can send fixed headers.
    public var presenceToken: String?
    /// Body limits: API calls, presence batches.
    public var maxBodyBytes = 1 << 20
    public var maxPresenceBytes = 64 << 20
    /// GET a topic rule destination's `enableUrl` when its confirmation arrives (it is always
    /// recorded; `fleetdex presence-destination` shows it).
    public var confirmDestinations = false
    /// The console's saved queries (nil: $FLEETDEX_QUERIES, else DB.queries, as the CLI).
    public var queriesDirectory: String?
    public init(databasePath: String) { self.databasePath = databasePath }
}

/// Answers requests.
public final class Dispatcher: Sendable {
    let configuration: ServerConfiguration
    let model: ModelTable
    let pool: DatabasePool
    let signer: SigV4
    let runner: Runner?
    private let rest: [String: RestJSONProtocol]
    private let json: [String: JSONProtocol]
    private let query: [String: QueryProtocol]
    /// Signing name → service.
    private let bySigningName: [String: String]
    let clock: any FleetClock
    /// `/console`: the pages in a browser.
    public let console: Console
    /// Whether reads of one item run in place (`readsOneItem`): on SQLite, not on PostgreSQL.
    let inPlace: Bool
    /// The handler of an operation (Operations.handler; tests put slow ones in its place).
    let handlers: @Sendable (_ service: String, _ operation: String) -> OperationHandler?

    public convenience init(configuration: ServerConfiguration, model: ModelTable = .embedded, pool: DatabasePool, runner: Runner?,
                            clock: any FleetClock = SystemClock()) {
        self.init(configuration: configuration, model: model, pool: pool, runner: runner, clock: clock, handlers: Operations.handler)
    }

    init(configuration: ServerConfiguration, model: ModelTable = .embedded, pool: DatabasePool, runner: Runner?,
         clock: any FleetClock = SystemClock(), handlers: @escaping @Sendable (String, String) -> OperationHandler?) {
        self.configuration = configuration
        self.inPlace = !FleetDatabase.namesPostgres(configuration.databasePath)
        self.handlers = handlers
        self.model = model
        self.pool = pool
        self.runner = runner
        self.clock = clock
        var rest: [String: RestJSONProtocol] = [:], json: [String: JSONProtocol] = [:], query: [String: QueryProtocol] = [:]
        var names: [String: String] = [:]
        for (name, s) in model.services {
            names[s.signingName] = name
            switch s.protocolName {
            case "rest-json": rest[name] = RestJSONProtocol(service: s)
            case "json": json[name] = JSONProtocol(service: s); query[name] = QueryProtocol(service: s)
            case "query": query[name] = QueryProtocol(service: s)
            default: break
            }
        }
        self.rest = rest
        self.json = json
        self.query = query
        self.bySigningName = names
        console = Console(pool: pool, clock: clock, accessKeyId: configuration.accessKeyId, secretAccessKey: configuration.secretAccessKey,
                          queriesDirectory: configuration.queriesDirectory
                            ?? ProcessInfo.processInfo.environment["FLEETDEX_QUERIES"].flatMap { $0.isEmpty ? nil : $0 }
                            ?? configuration.databasePath + ".queries")
        signer = SigV4(accessKeyId: configuration.accessKeyId, secretAccessKey: configuration.secretAccessKey,
                       region: configuration.region, services: Set(names.keys))
    }

    /// Which service and protocol a request speaks, before (or without) its signature.
    enum Route {
        case rest(String), json(String), query(String)
        var service: String {
            switch self { case .rest(let s), .json(let s), .query(let s): s }
        }
        var protocolName: String {
            switch self { case .rest: "rest-json"; case .json: "json"; case .query: "query" }
        }
    }

    func route(_ r: SignedRequest, signingName: String?, form: [String: String]?) -> Route {
        if let target = r.header("x-amz-target"), target.hasPrefix("AmazonSQS.") { return .json("sqs") }
        if let form, form["Action"] != nil {
            if let s = signingName.flatMap({ bySigningName[$0] }), query[s] != nil { return .query(s) }
            return .query(form["Version"] == "2012-11-05" ? "sqs" : "sns")
        }
        if let s = signingName.flatMap({ bySigningName[$0] }) {
            if rest[s] != nil { return .rest(s) }
            if json[s] != nil { return .json(s) }
            if query[s] != nil { return .query(s) }
        }
        return .rest("iot")
    }

    /// The signing name a request's credential scope claims (unverified; for routing errors).
    static func claimedSigningName(_ r: SignedRequest) -> String? {
        var credential: Substring?
        if let auth = r.header("authorization") {
            for field in auth.split(separator: ",") {
                let f = field.drop { $0 == " " }
                if let eq = f.firstIndex(of: "="), f[..<eq].hasSuffix("Credential") { credential = f[f.index(after: eq)...] }
            }
        } else {
            credential = r.queryItems.first { $0.0 == "X-Amz-Credential" }.map { Substring($0.1) }
        }
        guard let parts = credential?.split(separator: "/"), parts.count == 5 else { return nil }
        return String(parts[3])
    }

    /// The request's form fields (when it is form-encoded) and the service and protocol it speaks.
    func classify(_ r: SignedRequest) -> (form: [String: String]?, route: Route) {
        let isForm = (r.header("content-type") ?? "").lowercased().hasPrefix("application/x-www-form-urlencoded")
            || (r.method == "GET" && r.queryItems.contains { $0.0 == "Action" })
        let form = isForm ? QueryProtocol.parameters(r) : nil
        return (form, route(r, signingName: Self.claimedSigningName(r), form: form))
    }

    /// The operation a request names and its input members, read by its route's protocol.
    func bind(_ r: SignedRequest, _ route: Route, form: [String: String]?) throws(FleetError) -> (OperationModel, OperationInput) {
        guard r.body.count <= configuration.maxBodyBytes else {
            throw FleetError(.requestTooLarge, "the request body is over \(configuration.maxBodyBytes) bytes")
        }
        switch route {
        case .rest(let s):
            guard let p = rest[s] else { throw FleetError(.unknownOperation, "unknown service \(s)") }
            return try p.bind(r)
        case .json(let s):
            guard let p = json[s] else { throw FleetError(.unknownOperation, "unknown service \(s)") }
            return try p.bind(r)
        case .query(let s):
            guard let p = query[s] else { throw FleetError(.invalidAction, "unknown service \(s)") }
            return try p.bind(form ?? QueryProtocol.parameters(r))
        }
    }

    /// An operation's answer in its route's protocol (bind found the protocol).
    func respond(_ route: Route, _ op: OperationModel, _ output: JSONValue, requestId: String) -> WireResponse {
        switch route {
        case .rest(let s): rest[s]!.respond(op, output)
        case .json(let s): json[s]!.respond(op, output)
        case .query(let s): query[s]!.respond(op, output, requestId: requestId)
        }
    }

    public func handle(_ r: SignedRequest) async -> WireResponse {
        if Console.owns(r) { return await console.handle(r) }
        let requestId = UUID().uuidString.lowercased()
        if r.rawPath == "/_fleetdex/health" && r.method == "GET" { return health() }
        if r.rawPath == "/_fleetdex/root-ca.pem" && r.method == "GET" { return await rootCA(requestId: requestId) }
        if r.rawPath == "/_fleetdex/presence" { return await presence(r, requestId: requestId) }
        let (form, route) = classify(r)
        do {
            _ = try signer.verify(r, now: clock.now() / 1000)
        } catch {
            return fail(AuthErrors.code(error, protocol: route.protocolName), route, requestId: requestId)
        }
        do {
            let (op, input) = try bind(r, route, form: form)
            return respond(route, op, try await call(route.service, op, input), requestId: requestId)
        } catch let e as FleetError {
            return fail(e, route, requestId: requestId)
        } catch is CancellationError {
            // Nobody reads this answer: the client has gone (or serve is stopping).
            return fail(FleetError(.internalFailure, "the request was cancelled: its client closed the connection"), route, requestId: requestId)
        } catch {
            return fail(FleetError(.internalFailure, "\(error)"), route, requestId: requestId)
        }
    }

    /// Everything a request's bytes go through before an operation runs (routing, the
    /// signature, the protocol's member binding, presence framing), for the fuzzer: the
    /// operation it names, or the error it gets. Touches no database.
    public func decode(_ r: SignedRequest, now: Int64) -> String {
        if r.rawPath == "/_fleetdex/presence" { return "presence: \(Self.presenceInputs(r.body).count) input(s)" }
        let (form, route) = classify(r)
        var outcome = ""
        do { _ = try signer.verify(r, now: now) } catch { outcome = "auth: \(error); " }
        do {
            outcome += try bind(r, route, form: form).0.name
        } catch {
            _ = fail(error as? FleetError ?? FleetError(.internalFailure, "\(error)"), route, requestId: "fuzz")
            outcome += "error"
        }
        return outcome
    }

    func fail(_ e: FleetError, _ route: Route, requestId: String) -> WireResponse {
        guard let service = model.services[route.service] else {
            return WireResponse(status: e.httpStatus, contentType: "application/json", text: jsonObject([("message", .string(e.message))]).compact)
        }
        switch route {
        case .rest: return RestJSONProtocol.error(e, service: service)
        case .json: return JSONProtocol.error(e, service: service)
        case .query: return QueryProtocol.error(e, service: service, requestId: requestId)
        }
    }

    /// Reads of one item by its key: bounded and short, they run where the request's task is
    /// (DatabasePool.Lane.inPlace) instead of on a read thread, on SQLite (`inPlace`): on
    /// PostgreSQL each is a round trip to the server, whose wait must not hold a cooperative thread.
    static let readsOneItem: Set<String> = [
        "DescribeThing", "DescribeThingType", "DescribeThingGroup", "DescribeIndex", "DescribeSecurityProfile",
        "DescribeMitigationAction", "DescribeEndpoint", "DescribeCertificate", "GetIndexingConfiguration",
        "GetThingShadow", "GetPolicy", "GetPolicyVersion", "GetQueueUrl",
    ]

    /// Operations that only read: they run on the pool's read threads and their work stops when
    /// the client goes (the request's task is cancelled; see DatabasePool.run). Writes run on its
    /// write thread, one after another, to their end, as sent.
    static func onlyReads(_ operation: String) -> Bool {
        operation.hasPrefix("List") || operation.hasPrefix("Describe") || operation.hasPrefix("Get") || operation.hasPrefix("Search")
    }

    /// What the operation's preparation makes (`Operations.preparation`), if it has one: on
    /// NIO's thread pool, so neither a cooperative thread nor the write thread waits on it.
    private func prepare(_ service: String, _ operation: String, _ input: OperationInput) async throws -> (any Sendable)? {
        guard let preparation = Operations.preparation(service: service, operation: operation) else { return nil }
        return try await NIOThreadPool.singleton.runIfActive { () throws -> any Sendable in try preparation(input) }
    }

    /// Runs an operation's handler on a pooled database handle. SQS long polling waits here,
    /// between attempts, without holding a handle (a cancelled request stops waiting).
    func call(_ service: String, _ op: OperationModel, _ input: OperationInput) async throws -> JSONValue {
        guard let handler = handlers(service, op.name) else {
            throw FleetError(.unknownOperation, "fleetdex does not implement \(service) \(op.name)")
        }
        let wait = service == "sqs" && op.name == "ReceiveMessage" ? try input.int("WaitTimeSeconds") ?? 0 : 0
        guard (0...20).contains(wait) else { throw FleetError(.invalidParameterValue, "WaitTimeSeconds must be between 0 and 20") }
        let deadline = clock.now() + Int64(wait) * 1000
        let reads = Self.onlyReads(op.name)
        let lane: DatabasePool.Lane = inPlace && Self.readsOneItem.contains(op.name) ? .inPlace : reads ? .read : .write
        let prepared = try await prepare(service, op.name, input)
        while true {
            let result = try await pool.run(lane, interruptible: reads) { [clock, configuration] db in
                try handler(OperationContext(db: db, now: clock.now(), endpointAddress: configuration.endpointAddress, prepared: prepared), input)
            }
            if wait == 0 || !(result["Messages"]?.arrayValue?.isEmpty ?? true) || clock.now() >= deadline { return result }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The database's root certificate (public: devices need it to trust the endpoint).
    func rootCA(requestId: String) async -> WireResponse {
        do {
            // A read once the CA exists; the first call makes it, a write.
            var pem = try await pool.run(.read) { db in try CertificateAuthority.existingRootPEM(db) }
            if pem == nil {
                pem = try await pool.run(.write) { [clock] db in try CertificateAuthority.rootPEM(db, at: clock.now()) }
            }
            return WireResponse(status: 200, contentType: "application/x-pem-file", text: pem ?? "")
        } catch let e as FleetError {
            return fail(e, .rest("iot"), requestId: requestId)
        } catch {
            return fail(FleetError(.internalFailure, "\(error)"), .rest("iot"), requestId: requestId)
        }
    }

    func health() -> WireResponse {
        let body = jsonObject([("status", .string("ok")), ("version", .string(FleetVersion.string)),
                               ("database", .string(configuration.databasePath)), ("region", .string(configuration.region))])
        return WireResponse(status: 200, contentType: "application/json", text: body.compact)
    }
}
