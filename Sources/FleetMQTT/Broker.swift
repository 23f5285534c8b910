// FleetMQTT: the endpoint's sessions and subscriptions, in memory (AWS IoT's persistent
// sessions are not kept: every connection starts clean). One session per client id: a second
// connection with the same id takes over (the first is closed with DUPLICATE_CLIENTID).
// Messages are routed to every subscription whose filter matches, each delivery decided by
// the subscriber's iot:Receive; exact filters are looked up by topic, wildcard filters scanned.
// A delivery larger than the subscriber's MQTT 5 Maximum Packet Size is discarded for it.
//
// versionNumber: one more than the client's last, the newest of what this process numbered
// and what is stored (read at CONNECT). The number in memory is only needed until the
// session's events are committed (then the stored one is as new); it is dropped then, when no
// session of the client is open and no CONNECT of it is reading the stored number, so the map
// holds the clients with a session open or events in flight, not every client id ever seen.
import FleetIndex
import NIOConcurrencyHelpers

final class Broker: Sendable {
    struct Subscriber {
        let connection: MQTTConnection
        let grant: ConnectionGrant
        /// The client's MQTT 5 Maximum Packet Size (Int.max: none).
        let maximumPacketSize: Int
        var exact: [String: UInt8] = [:]
        var wildcard: [String: UInt8] = [:]
    }

    private struct State {
        var byClient: [String: ObjectIdentifier] = [:]
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
        /// Topic → the subscribers with that exact filter.
        var exact: [String: Set<ObjectIdentifier>] = [:]
        /// Subscribers with at least one wildcard filter.
        var wildcard: Set<ObjectIdentifier> = []
        /// versionNumber of each client id's last connection, while it may be newer than the stored one.
        var versions: [String: Numbered] = [:]
        /// Client ids whose CONNECT is reading the stored versionNumber (how many at once).
        var admitting: [String: Int] = [:]
    }

    struct Numbered {
        var version: Int64
        /// The session ended and its `disconnected` event is committed: dropped once no
        /// CONNECT of the client is reading the stored number.
        var committed = false
    }
    private let state = NIOLockedValueBox(State())

    /// A CONNECT of `clientId` is about to read the stored versionNumber (its grant); ended by
    /// `register` or `endAdmission`, exactly once.
    func beginAdmission(clientId: String) {
        state.withLockedValue { $0.admitting[clientId, default: 0] += 1 }
    }

    /// A CONNECT that began admission was refused or abandoned.
    func endAdmission(clientId: String) {
        state.withLockedValue { s in Self.endAdmission(clientId, &s) }
    }

    private static func endAdmission(_ clientId: String, _ s: inout State) {
        guard let n = s.admitting[clientId] else { return }
        if n > 1 { s.admitting[clientId] = n - 1; return }
        s.admitting[clientId] = nil
        trim(clientId, &s)
    }

    /// Drops the client's number once its last session ended with its events committed and
    /// no CONNECT of it is reading the stored number (the stored one is then as new).
    private static func trim(_ clientId: String, _ s: inout State) {
        if s.byClient[clientId] == nil, s.admitting[clientId] == nil, s.versions[clientId]?.committed == true {
            s.versions[clientId] = nil
        }
    }

    /// Makes `connection` the session of its client id (ending its admission): its
    /// versionNumber (one more than the client's last, in memory or stored) and the connection
    /// it takes over, if any.
    func register(_ connection: MQTTConnection, clientId: String, grant: ConnectionGrant,
                  maximumPacketSize: Int = .max) -> (version: Int64, previous: MQTTConnection?) {
        state.withLockedValue { s in
            Self.endAdmission(clientId, &s)
            let id = ObjectIdentifier(connection)
            let previous = s.byClient[clientId].flatMap { s.subscribers[$0]?.connection }
            if let previous { Self.drop(ObjectIdentifier(previous), from: &s) }
            s.byClient[clientId] = id
            s.subscribers[id] = Subscriber(connection: connection, grant: grant, maximumPacketSize: maximumPacketSize)
            // One more than the newest of what this process numbered and what is stored (a
            // restarted endpoint continues the client's count; events in flight are not stored yet).
            let version = max(s.versions[clientId]?.version ?? 0, grant.storedVersion) + 1
            s.versions[clientId] = Numbered(version: version)
            return (version, previous)
        }
    }

    /// Lifecycle events committed (the runner has them stored): a client whose last session's
    /// `disconnected` is among them needs no number in memory any more.
    func committed(_ events: [LifecycleEvent]) {
        state.withLockedValue { s in
            // The session may still be registered (its removal races with the commit).
            for e in events where e.kind == .disconnected && s.versions[e.clientId]?.version == e.version {
                s.versions[e.clientId]!.committed = true
                Self.trim(e.clientId, &s)
            }
        }
    }

    /// How many client ids have a versionNumber in memory (open sessions, events in flight).
    var numberedClients: Int { state.withLockedValue { $0.versions.count } }

    /// Ends the session of `connection` (a taken-over connection is already gone).
    func remove(_ connection: MQTTConnection, clientId: String) {
        state.withLockedValue { s in
            let id = ObjectIdentifier(connection)
            Self.drop(id, from: &s)
            if s.byClient[clientId] == id {
                s.byClient[clientId] = nil
                Self.trim(clientId, &s)
            }
        }
    }

    private static func drop(_ id: ObjectIdentifier, from s: inout State) {
        guard let sub = s.subscribers.removeValue(forKey: id) else { return }
        for f in sub.exact.keys {
            s.exact[f]?.remove(id)
            if s.exact[f]?.isEmpty == true { s.exact[f] = nil }
        }
        s.wildcard.remove(id)
    }

    /// Adds (or updates) a subscription; false when the connection already has `limit` others.
    func subscribe(_ connection: MQTTConnection, filter: String, qos: UInt8, limit: Int) -> Bool {
        state.withLockedValue { s in
            let id = ObjectIdentifier(connection)
            guard let sub = s.subscribers[id] else { return false }
            let known = sub.exact[filter] != nil || sub.wildcard[filter] != nil
            guard known || sub.exact.count + sub.wildcard.count < limit else { return false }
            if TopicFilter.hasWildcard(filter) {
                s.subscribers[id]!.wildcard[filter] = qos
                s.wildcard.insert(id)
            } else {
                s.subscribers[id]!.exact[filter] = qos
                s.exact[filter, default: []].insert(id)
            }
            return true
        }
    }

    /// Whether the filter was subscribed.
    func unsubscribe(_ connection: MQTTConnection, filter: String) -> Bool {
        state.withLockedValue { s in
            let id = ObjectIdentifier(connection)
            guard s.subscribers[id] != nil else { return false }
            if s.subscribers[id]!.exact.removeValue(forKey: filter) != nil {
                s.exact[filter]?.remove(id)
                if s.exact[filter]?.isEmpty == true { s.exact[filter] = nil }
                return true
            }
            if s.subscribers[id]!.wildcard.removeValue(forKey: filter) != nil {
                if s.subscribers[id]!.wildcard.isEmpty { s.wildcard.remove(id) }
                return true
            }
            return false
        }
    }

    /// Delivers a message to every subscriber with a matching filter that may receive it, at
    /// the lower of the message's QoS and the highest granted QoS of its matching filters.
    /// Returns how many deliveries were made (a discarded one is not counted).
    @discardableResult
    func route(topic: String, payload: [UInt8], qos: UInt8) -> Int {
        let targets = state.withLockedValue { s -> [(MQTTConnection, UInt8)] in
            var best: [ObjectIdentifier: UInt8] = [:]
            for id in s.exact[topic] ?? [] { best[id] = s.subscribers[id]?.exact[topic] }
            for id in s.wildcard {
                guard let sub = s.subscribers[id] else { continue }
                for (f, q) in sub.wildcard where TopicFilter.matches(f, topic) { best[id] = max(best[id] ?? 0, q) }
            }
            return best.compactMap { id, q in
                guard let sub = s.subscribers[id], sub.grant.mayReceive(topic) else { return nil }
                let level = min(q, qos)
                // MQTT 5 (3.1.2.11.4): a PUBLISH over the client's limit is discarded for it.
                if sub.maximumPacketSize < .max,
                   MQTTEncoder.publishSize(topicBytes: topic.utf8.count, payloadBytes: payload.count, qos: level, version: .v5) > sub.maximumPacketSize {
                    return nil
                }
                return (sub.connection, level)
            }
        }
        for (c, q) in targets { c.deliver(topic: topic, payload: payload, qos: q) }
        return targets.count
    }

    /// Every session (shutdown).
    func connections() -> [MQTTConnection] {
        state.withLockedValue { s in s.subscribers.values.map(\.connection) }
    }

    var count: Int { state.withLockedValue { $0.subscribers.count } }
}
