// FleetMQTT: one device connection, after TLS: its plaintext cut into packets (MQTTFrameDecoder),
// CONNECT (admission by certificate and iot:Connect), then PUBLISH/SUBSCRIBE/UNSUBSCRIBE/PINGREQ/
// DISCONNECT, the keep-alive, the will, the lifecycle events of the connection (`connected`,
// and exactly one `disconnected` with AWS's reason when it ends), and, when it has been quiet
// for a while, its TLS buffers' pages handed back (SessionBuffers).
//
// `@unchecked Sendable`: every mutable member is touched on the channel's event loop only;
// other threads (the broker routing a message, a takeover, shutdown) hop onto it first.
import FleetDevices
import FleetIndex
import NIOConcurrencyHelpers
import NIOCore

final class MQTTConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State { case awaitingConnect, authorizing, connected, closed }

    private let services: MQTTServices
    /// The presented certificate (DER), set by the TLS verification callback.
    private let peer: NIOLockedValueBox<[UInt8]?>
    /// The TLS buffers, handed back when the session is quiet.
    private let buffers: SessionBuffers
    private var frames: MQTTFrameDecoder
    /// The input failed to decode: nothing more of it is read.
    private var inputFailed = false
    private var channel: Channel?
    private var state = State.awaitingConnect
    private var wasConnected = false
    private var version = MQTTVersion.v311
    private var clientId = ""
    /// The session's identifier, as the random bits of its UUID (its text made for each event).
    private var session: (UInt64, UInt64) = (0, 0)
    private var lifecycleVersion: Int64 = 0
    private var grant: ConnectionGrant?
    private var will: MQTTPacket.Will?
    /// An MQTT 5 DISCONNECT with reason 0x04 ("with will message") asked for the will.
    private var willRequested = false
    private var ip: String?
    private var lastRead = NIODeadline.now()
    /// The last read or write of a packet.
    private var lastActivity = NIODeadline.now()
    private var keepAliveTimeout = TimeAmount.seconds(0)
    /// The session's one pending check: due when the connection has been silent for the
    /// keep-alive timeout, or sooner when it has been quiet long enough for its buffers to go back.
    private var keepAliveCheck: Scheduled<Void>?
    private var checkDue = NIODeadline.distantFuture
    private var connectTimeout: Scheduled<Void>?
    private var pending: [MQTTPacket] = []
    private var closeReason: DisconnectReason?
    private var nextPacketId: UInt16 = 0
    private var shadowRequests = 0
    /// The client's MQTT 5 Maximum Packet Size (Int.max: none): nothing larger is sent to it.
    private var maximumPacketSize = Int.max

    static let maximumSubscriptions = 50
    static let maximumShadowRequests = 16

    init(services: MQTTServices, peer: NIOLockedValueBox<[UInt8]?>, buffers: SessionBuffers) {
        self.services = services
        self.peer = peer
        self.buffers = buffers
        self.frames = MQTTFrameDecoder(maximumPacketSize: services.configuration.maximumPacketSize)
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        // Unowned, not weak (a weak reference gives the session a side table): the hook is taken
        // away in channelInactive and handlerRemoved, before the session can go.
        buffers.onDirty = { [unowned self] in becameActive() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        buffers.onDirty = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        ip = context.channel.remoteAddress?.ipAddress
        let loop = context.eventLoop
        connectTimeout = loop.scheduleTask(in: services.configuration.connectTimeout) { [self] in
            if state == .awaitingConnect { channel?.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        guard !inputFailed, state != .closed else { return }
        let now = NIODeadline.now()
        lastActivity = now
        buffers.noteRead(input)
        do {
            try frames.decode(input, allocator: context.channel.allocator) { packet in
                // The keep-alive counts whole packets: bytes of one never finished keep nothing alive.
                lastRead = now
                received(packet, context: context)
                return state != .closed && !inputFailed
            }
        } catch {
            inputFailed = true
            refused(error)
        }
    }

    private func received(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch state {
        case .awaitingConnect:
            guard case .connect(let c) = packet else {
                // MQTT: the first packet must be CONNECT; the connection is closed.
                inputFailed = true
                context.close(promise: nil)
                return
            }
            connect(c)
        case .authorizing:
            pending.append(packet)
            if pending.count > 64 {
                inputFailed = true
                fail(.clientError, code: 0x97)
            }
        case .connected:
            handle(packet)
        case .closed:
            break
        }
    }

    /// Input that does not decode: a refused CONNECT is answered when the level is known, then
    /// closed; a connected client's ends the session (CLIENT_ERROR).
    private func refused(_ failure: MQTTFrameDecoder.Failure) {
        let e = failure.error
        guard state == .awaitingConnect || state == .authorizing else { return fail(.clientError, code: e.code) }
        let level = failure.level
        switch (e.code, level) {
        case (0x84, _): refuse(v311: 0x01, v5: 0x84, as: level ?? .v311)
        case (0x85, let l?): refuse(v311: 0x02, v5: 0x85, as: l)
        case (_, .v5?): refuse(v311: 0, v5: e.code, as: .v5)
        default:
            state = .closed
            channel?.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // TLS or socket errors: the connection is lost.
        if closeReason == nil { closeReason = .connectionLost }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectTimeout?.cancel()
        keepAliveCheck?.cancel()
        buffers.onDirty = nil
        let was = state
        state = .closed
        if was == .connected || wasConnected {
            let reason = closeReason ?? .connectionLost
            // The will is a PUBLISH of the client's: the same reserved-topic rule and policy.
            if reason.sendsWill || willRequested, let w = will, ReservedTopic.clientMayPublish(w.topic), grant?.mayPublish(w.topic) == true {
                services.broker.route(topic: w.topic, payload: w.payload, qos: min(w.qos, 1))
            }
            // The event before the session goes: stop() waits for an empty broker, then drains.
            emit(.disconnected, reason: reason)
            services.broker.remove(self, clientId: clientId)
        }
        context.fireChannelInactive()
    }

    // MARK: CONNECT

    private func connect(_ c: MQTTPacket.Connect) {
        connectTimeout?.cancel()
        connectTimeout = nil
        version = c.version
        clientId = c.clientId
        state = .authorizing
        // AWS IoT refuses an empty client id (nothing to authorize iot:Connect against).
        guard !c.clientId.isEmpty else { return refuse(v311: 0x02, v5: 0x85, as: version) }
        if case .fourBytes(let limit)? = c.properties.value(of: MQTTProperty.maximumPacketSize) {
            // MQTT 5 (3.1.2.11.4): a Maximum Packet Size of 0 is a protocol error.
            guard limit > 0 else { return refuse(v311: 0x01, v5: 0x82, as: version) }
            maximumPacketSize = Int(limit)
        }
        // Taken out of the box: the certificate is needed for the grant only, not for the session's life.
        guard let der = peer.withLockedValue({ d -> [UInt8]? in defer { d = nil }; return d }), let loop = channel?.eventLoop else {
            return refuse(v311: 0x05, v5: 0x87, as: version)
        }
        let authorizer = services.authorizer, clientId = c.clientId, ip = ip
        // The grant reads the client's stored versionNumber: the broker keeps its own until registered.
        services.broker.beginAdmission(clientId: clientId)
        services.threadPool.runIfActive(eventLoop: loop) {
            try authorizer.grant(der: der, clientId: clientId, sourceIp: ip)
        }.whenComplete { [self] result in admitted(c, result) }
    }

    private func admitted(_ c: MQTTPacket.Connect, _ result: Result<ConnectionGrant?, Error>) {
        let broker = services.broker
        guard state == .authorizing else { return broker.endAdmission(clientId: c.clientId) }
        let g: ConnectionGrant
        switch result {
        case .failure:                                                        // server unavailable
            broker.endAdmission(clientId: c.clientId)
            return refuse(v311: 0x03, v5: 0x88, as: version)
        case .success(nil):                                                   // the certificate went away
            broker.endAdmission(clientId: c.clientId)
            return refuse(v311: 0x05, v5: 0x87, as: version)
        case .success(let got?): g = got
        }
        guard g.mayConnect().isAllowed else {
            broker.endAdmission(clientId: c.clientId)
            // AWS: an authenticated client refused by its policies makes a connect_failed event.
            grant = g
            session = Self.newSession()
            emit(.connectFailed, reason: nil, failure: "AUTHORIZATION_FAILED")
            return refuse(v311: 0x05, v5: 0x87, as: version)
        }
        grant = g
        will = c.will
        let conf = services.configuration
        // AWS clamps the keep-alive to 30-1200 s (0 means 1200) and enforces 1.5 times it.
        let asked = Int64(c.keepAlive)
        let effective = asked == 0 ? conf.maximumKeepAlive : min(max(asked, conf.minimumKeepAlive), conf.maximumKeepAlive)
        keepAliveTimeout = .milliseconds(effective * 1500)
        let (number, previous) = broker.register(self, clientId: c.clientId, grant: g, maximumPacketSize: maximumPacketSize)
        previous?.close(.duplicateClientId)
        lifecycleVersion = number
        session = Self.newSession()
        var props: [MQTTProperty] = []
        if version == .v5 {
            props = [MQTTProperty(MQTTProperty.maximumPacketSize, .fourBytes(UInt32(conf.maximumPacketSize))),
                     MQTTProperty(MQTTProperty.maximumQoS, .byte(1)),
                     MQTTProperty(MQTTProperty.retainAvailable, .byte(0)),
                     MQTTProperty(MQTTProperty.sharedSubscriptionAvailable, .byte(0))]
            if effective != asked { props.append(MQTTProperty(MQTTProperty.serverKeepAlive, .twoBytes(UInt16(effective)))) }
        }
        send(.connack(.init(code: 0, properties: props)))
        state = .connected
        wasConnected = true
        emit(.connected, reason: nil)
        scheduleCheck()
        let queued = pending
        pending = []
        for p in queued where state == .connected { handle(p) }
    }

    /// Answers CONNECT with a refusal and closes (no lifecycle event: never connected).
    private func refuse(v311: UInt8, v5: UInt8, as level: MQTTVersion) {
        state = .closed
        let code = level == .v5 ? v5 : v311
        guard let channel else { return }
        channel.writeAndFlush(buffer(MQTTEncoder.encode(.connack(.init(code: code)), version: level))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// One scheduled check per connection (not a repeated timer). Due at the last read plus
    /// the keep-alive timeout, it fails the connection when nothing arrived since; while the
    /// TLS buffers hold written pages it is due sooner, once the session has been quiet for
    /// `idleBufferRelease`, and hands them back. Either way it then moves itself to the new due time.
    private func scheduleCheck() {
        guard let loop = channel?.eventLoop else { return }
        let now = NIODeadline.now()
        var due = lastRead + keepAliveTimeout
        if buffers.isDirty {
            let quiet = services.configuration.idleBufferRelease
            var release = lastActivity + quiet
            if release <= now { release = now + quiet }
            due = min(due, release)
        }
        checkDue = due
        keepAliveCheck = loop.scheduleTask(deadline: due) { [self] in
            guard state == .connected else { return }
            let now = NIODeadline.now()
            if now - lastRead >= keepAliveTimeout { return fail(.keepAliveTimeout, code: 0x8D) }
            if buffers.isDirty, now - lastActivity >= services.configuration.idleBufferRelease {
                let pages = buffers.release()
                if pages > 0 {
                    services.releases.add(1)
                    services.releasedPages.add(pages)
                }
            }
            scheduleCheck()
        }
    }

    /// The buffers were clean and are written again: the check comes forward if it is due
    /// later than the quiet period.
    private func becameActive() {
        guard state == .connected, checkDue > NIODeadline.now() + services.configuration.idleBufferRelease else { return }
        keepAliveCheck?.cancel()
        scheduleCheck()
    }

    // MARK: packets of a connected client

    private func handle(_ packet: MQTTPacket) {
        guard let grant else { return }
        switch packet {
        case .connect:
            fail(.clientError, code: 0x82)    // a second CONNECT
        case .publish(let p):
            guard p.qos < 2 else { return fail(.clientError, code: 0x9B) }  // AWS IoT has no QoS 2
            guard ReservedTopic.clientMayPublish(p.topic), grant.mayPublish(p.topic) else {
                // 3.1.1 has no way to refuse a PUBLISH: AWS closes the connection.
                if version == .v311 { return fail(.authError, code: nil) }
                if p.qos == 1, let id = p.packetId { send(.puback(.init(packetId: id, code: 0x87))) }
                return
            }
            if p.qos == 1, let id = p.packetId { send(.puback(.init(packetId: id))) }
            services.broker.route(topic: p.topic, payload: p.payload, qos: p.qos)
            if let op = ShadowOperation(topic: p.topic) { shadow(op, p.payload) }
        case .puback:
            break    // deliveries are not retransmitted
        case .subscribe(let s):
            var codes: [UInt8] = []
            for sub in s.subscriptions {
                if !TopicFilter.isValid(sub.filter) {
                    codes.append(version == .v5 ? 0x8F : 0x80)
                } else if !grant.maySubscribe(sub.filter) {
                    codes.append(version == .v5 ? 0x87 : 0x80)
                } else {
                    let q = min(sub.qos, 1)
                    // AWS IoT's quota: 50 subscriptions per connection.
                    if services.broker.subscribe(self, filter: sub.filter, qos: q, limit: Self.maximumSubscriptions) {
                        codes.append(q)
                    } else {
                        codes.append(version == .v5 ? 0x97 : 0x80)
                    }
                }
            }
            send(.suback(.init(packetId: s.packetId, codes: codes)))
        case .unsubscribe(let u):
            let codes = u.filters.map { services.broker.unsubscribe(self, filter: $0) ? UInt8(0) : 0x11 }
            send(.unsuback(.init(packetId: u.packetId, codes: version == .v5 ? codes : [])))
        case .pingreq:
            send(.pingresp)
        case .disconnect(let d):
            // v5 reason 0x04 asks for the will to be sent; any other clean DISCONNECT discards it.
            if d.code != 0x04 { will = nil } else { willRequested = true }
            closeReason = .clientInitiated
            state = .closed
            channel?.close(promise: nil)
        case .connack, .suback, .unsuback, .pingresp:
            fail(.clientError, code: 0x82)    // server-to-client packets
        }
    }

    /// A shadow request, on the thread pool; at most `maximumShadowRequests` of a connection
    /// wait there at once (more are rejected with 429, as AWS throttles).
    private func shadow(_ op: ShadowOperation, _ payload: [UInt8]) {
        guard let loop = channel?.eventLoop else { return }
        let shadows = services.shadows, broker = services.broker
        guard shadowRequests < Self.maximumShadowRequests else {
            let r = shadows.throttled(op)
            broker.route(topic: r.topic, payload: r.payload, qos: 1)
            return
        }
        shadowRequests += 1
        services.threadPool.runIfActive(eventLoop: loop) {
            for (topic, body) in shadows.perform(op, payload: payload) {
                broker.route(topic: topic, payload: body, qos: 1)
            }
        }.whenComplete { [self] _ in shadowRequests -= 1 }
    }

    // MARK: closing

    /// Ends a connected session with `reason` (from any thread).
    func close(_ reason: DisconnectReason) {
        channel?.eventLoop.execute { [self] in fail(reason, code: reason.serverDisconnectCode) }
    }

    private func fail(_ reason: DisconnectReason, code: UInt8?) {
        guard state != .closed, let channel else { return }
        if closeReason == nil { closeReason = reason }
        if state == .connected {
            state = .closed   // no more packets are handled; channelInactive makes the event
        }
        // A DISCONNECT waits behind what the socket has not taken: to a device that reads
        // nothing it would never be written, and the close with it; such a one is closed now.
        if version == .v5, let code, wasConnected, channel.isWritable {
            channel.writeAndFlush(buffer(MQTTEncoder.encode(.disconnect(.init(code: code)), version: .v5))).whenComplete { _ in
                channel.close(promise: nil)
            }
        } else {
            channel.close(promise: nil)
        }
    }

    // MARK: output

    /// A message routed to this connection (from any thread); a slow device never stalls the others.
    func deliver(topic: String, payload: [UInt8], qos: UInt8) {
        guard let channel else { return }
        channel.eventLoop.execute { [self] in
            guard state == .connected else { return }
            var id: UInt16?
            if qos > 0 {
                nextPacketId = nextPacketId == UInt16.max ? 1 : nextPacketId + 1
                id = nextPacketId
            }
            send(.publish(.init(topic: topic, payload: payload, qos: qos, packetId: id)), droppable: qos == 0)
        }
    }

    /// Writes a packet, within the client's Maximum Packet Size (a larger one is discarded, MQTT
    /// 5 3.1.2.11.4) and the output budget: a slow device never holds more than
    /// `maximumQueuedBytes` of packets written but not yet taken by its socket. Beyond half of
    /// it a QoS 0 delivery (`droppable`) is dropped; beyond all of it the connection is closed
    /// (SERVER_INITIATED_DISCONNECT; no DISCONNECT packet, its socket takes nothing). The budget
    /// is only counted while the channel is not writable (NIO's high-water mark, 64 KB, passed).
    private func send(_ packet: MQTTPacket, droppable: Bool = false) {
        guard let channel else { return }
        let bytes = MQTTEncoder.encode(packet, version: version)
        guard bytes.count <= maximumPacketSize else { return }
        if !channel.isWritable {
            let queued = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            let budget = services.configuration.maximumQueuedBytes
            if droppable {
                if queued + bytes.count > budget / 2 { return }
            } else if queued + bytes.count > budget {
                if state == .connected { state = .closed }
                if closeReason == nil { closeReason = .serverInitiated }
                channel.close(promise: nil)
                return
            }
        }
        lastActivity = .now()
        channel.writeAndFlush(buffer(bytes), promise: nil)
    }

    private func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        channel?.allocator.buffer(bytes: bytes) ?? ByteBuffer(bytes: bytes)
    }

    // MARK: lifecycle events

    private static func newSession() -> (UInt64, UInt64) {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next())
    }

    private func emit(_ kind: LifecycleEvent.Kind, reason: DisconnectReason?, failure: String? = nil) {
        guard let grant else { return }
        let e = LifecycleEvent(clientId: clientId, timestamp: services.clock.now(), kind: kind, session: FleetDatabase.uuid(session.0, session.1),
                               version: lifecycleVersion, principal: grant.certificateId, ip: ip,
                               reason: failure ?? reason?.rawValue,
                               clientInitiated: kind == .disconnected ? reason == .clientInitiated : nil)
        services.sink.put(e)
        // AWS: client ids with + or # get no lifecycle messages.
        if !TopicFilter.hasWildcard(clientId) {
            services.broker.route(topic: "$aws/events/presence/\(kind.name)/\(clientId)", payload: Array(e.payload.compact.utf8), qos: 1)
        }
    }
}
