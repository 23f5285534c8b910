// FleetMQTT: `fleetdex serve`'s device endpoint: MQTT 3.1.1 and 5 over TLS 1.2/1.3 with
// client certificates (ALPN `x-amzn-mqtt-ca` accepted). The server certificate is issued by
// the database's CA for the names describe-endpoint returns; a client certificate is accepted
// only when it is registered (issued here, or registered without a CA) and ACTIVE, which the
// TLS handshake checks by its SHA-256; iot:Connect is decided at CONNECT. A ServiceLifecycle
// service: on graceful shutdown it stops accepting, closes every session with
// SERVER_INITIATED_DISCONNECT and waits until their events are handed to the runner.
import FleetDevices
import FleetIndex
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

public final class MQTTEndpoint: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0: any free port (see `boundPort`).
        public var port = 8883
        /// The server certificate's names (describe-endpoint's address).
        public var dnsNames = ["localhost"]
        public var ipAddresses = ["127.0.0.1"]
        /// The keep-alive range, in seconds (AWS: 30-1200; a client's 0 means the maximum).
        public var minimumKeepAlive: Int64 = 30
        public var maximumKeepAlive: Int64 = 1200
        /// How long a connection may take to send CONNECT after it opens.
        public var connectTimeout = TimeAmount.seconds(10)
        public var maximumPacketSize = MQTTDecoder.defaultMaximumPacketSize
        /// A connection's output budget: bytes of packets written but not yet taken by its
        /// socket (QoS 0 deliveries dropped beyond half of it, the connection closed beyond it).
        public var maximumQueuedBytes = 512 * 1024
        /// A session quiet this long hands its TLS buffers' written pages back (SessionBuffers).
        public var idleBufferRelease = TimeAmount.seconds(1)
        public init() {}
    }

    private let services: MQTTServices
    private let database: any DatabaseAccess
    private let server = NIOLockedValueBox<Channel?>(nil)
    private let onBound: @Sendable (Int) -> Void

    public init(configuration: Configuration, database: any DatabaseAccess, clock: any FleetClock,
                submit: @escaping LifecycleSink.Submit, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.database = database
        self.onBound = onBound
        let broker = Broker()
        // Once committed, a client's events are stored: the broker needs its number no longer.
        let sink = LifecycleSink(submit: { events in
            await submit(events)
            broker.committed(events)
        })
        services = MQTTServices(configuration: configuration, broker: broker, authorizer: DeviceAuthorizer(database: database),
                                shadows: ShadowService(database: database, clock: clock), sink: sink,
                                clock: clock, threadPool: NIOThreadPool(numberOfThreads: 2))
    }

    /// The port listened on, once started.
    public var boundPort: Int? { server.withLockedValue { $0?.localAddress?.port } }

    /// The number of open sessions.
    public var sessionCount: Int { services.broker.count }

    /// How many client ids have a versionNumber held in memory: those with a session open or
    /// with events not yet committed (not every client id ever seen).
    public var numberedClientCount: Int { services.broker.numberedClients }

    public func run() async throws {
        let port = try await start()
        onBound(port)
        try? await gracefulShutdown()
        await stop()
    }

    /// Binds and starts accepting; returns the port.
    public func start() async throws -> Int {
        let conf = services.configuration
        let clock = services.clock
        let (certificatePEM, keyPEM, rootPEM) = try database.with { db in
            let root = try CertificateAuthority.rootPEM(db, at: clock.now())
            let s = try CertificateAuthority.serverCertificate(db, dnsNames: conf.dnsNames, ipAddresses: conf.ipAddresses, at: clock.now())
            return (s.certificatePEM, s.privateKeyPEM, root)
        }
        let root = try NIOSSLCertificate(bytes: Array(rootPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        // A client certificate is required; the verification callback below decides it.
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates([root])
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.applicationProtocols = ["x-amzn-mqtt-ca"]
        let context = try NIOSSLContext(configuration: tls)
        services.threadPool.start()
        let services = services
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allocator, value: SessionBufferAllocator.allocator)
            // 16 KiB reads (a TLS record): a mapping of its own (SessionBufferAllocator), handed back when quiet.
            .childChannelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: SessionBufferAllocator.mappedFromSize))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = NIOLockedValueBox<[UInt8]?>(nil)
                    let tlsHandler = NIOSSLServerHandler(context: context) { certificates, promise in
                        guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                            return promise.succeed(.failed)
                        }
                        services.threadPool.runIfActive(eventLoop: promise.futureResult.eventLoop) {
                            services.authorizer.admit(der: der)
                        }.whenComplete { result in
                            if case .success(.success) = result {
                                peer.withLockedValue { $0 = der }
                                promise.succeed(.certificateVerified)
                            } else {
                                promise.succeed(.failed)
                            }
                        }
                    }
                    let buffers = SessionBuffers()
                    try channel.pipeline.syncOperations.addHandler(buffers)
                    try channel.pipeline.syncOperations.addHandler(tlsHandler)
                    try channel.pipeline.syncOperations.addHandler(MQTTConnection(services: services, peer: peer, buffers: buffers))
                }
            }
        let channel = try await bootstrap.bind(host: conf.host, port: conf.port).get()
        server.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? conf.port
    }

    /// Stops accepting, ends every session (SERVER_INITIATED_DISCONNECT) and waits for their
    /// `disconnected` events to be submitted.
    public func stop() async {
        let channel = server.withLockedValue { c -> Channel? in defer { c = nil }; return c }
        guard let channel else { return }
        try? await channel.close()
        for c in services.broker.connections() { c.close(.serverInitiated) }
        // The sessions close on their event loops; wait (bounded) until the broker is empty.
        for _ in 0..<200 where services.broker.count > 0 { try? await Task.sleep(for: .milliseconds(10)) }
        await services.sink.drain()
        try? await services.threadPool.shutdownGracefully()
    }

    /// Waits until every lifecycle event so far is submitted (tests).
    public func drainEvents() async { await services.sink.drain() }

    /// Times a quiet session handed its buffers' pages back, and the pages of those mappings
    /// (resident or not), since the start.
    public var bufferReleases: Int { services.releases.count }
    public var releasedBufferPages: Int { services.releasedPages.count }
}
