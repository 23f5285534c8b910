// FleetMQTT: device shadows over MQTT, answered as AWS IoT answers them, through the
// registry's shadow operations (so the fleet index sees every change). Blocking: runs on the
// endpoint's thread pool. Returns the messages to publish: accepted or rejected, and for an
// accepted update the delta (when the desired state differs from the reported one and the
// request set desired state) and the documents (previous and current).
import FleetIndex

struct ShadowService: Sendable {
    let database: any DatabaseAccess
    let clock: any FleetClock

    func perform(_ op: ShadowOperation, payload: [UInt8]) -> [(topic: String, payload: [UInt8])] {
        let now = clock.now()
        let seconds = JSONValue.int(now / 1000)
        var request: JSONValue = .object([])
        if !payload.isEmpty || op.kind == .update {
            guard let parsed = try? JSONValue.parse(bytes: payload), parsed.objectValue != nil else {
                return [rejected(op, 400, "Payload contains invalid json", token: nil, seconds)]
            }
            request = parsed
        }
        let token = request["clientToken"]
        if let t = token, t.stringValue == nil || t.stringValue!.utf8.count > 64 {
            return [rejected(op, 400, "clientToken must be a string of at most 64 bytes", token: nil, seconds)]
        }
        do {
            return try database.with { db in
                let registry = Registry(db)
                switch op.kind {
                case .get:
                    let doc = try registry.getThingShadow(thingName: op.thing, shadowName: op.shadow)
                    let body = jsonObject([("state", doc["state"]), ("metadata", metadata(doc["state"], seconds)),
                                           ("version", doc["version"]), ("timestamp", seconds), ("clientToken", token)])
                    return [(op.base + "/accepted", bytes(body))]
                case .delete:
                    let doc = try registry.getThingShadow(thingName: op.thing, shadowName: op.shadow)
                    _ = try registry.deleteThingShadow(thingName: op.thing, shadowName: op.shadow)
                    let body = jsonObject([("version", doc["version"]), ("timestamp", seconds), ("clientToken", token)])
                    return [(op.base + "/accepted", bytes(body))]
                case .update:
                    guard let state = request["state"], state.objectValue != nil || state.isNull else {
                        return [rejected(op, 400, "Missing required node: state", token: token, seconds)]
                    }
                    // One transaction: the previous document is the one this update replaced, and the
                    // version is checked where the update is written (two updates expecting the same
                    // version cannot both pass).
                    let (previous, result) = try db.transaction {
                        let previous = try? registry.getThingShadow(thingName: op.thing, shadowName: op.shadow)
                        let expected = Registry.expectedVersion(request["version"])
                        let result = try registry.updateThingShadow(thingName: op.thing, shadowName: op.shadow,
                                                                    payload: jsonObject([("state", state)]), at: now,
                                                                    expectedVersion: expected)
                        return (previous, result)
                    }
                    let version = result["version"]
                    var out: [(String, [UInt8])] = []
                    let accepted = jsonObject([("state", state), ("metadata", metadata(state, seconds)),
                                               ("version", version), ("timestamp", seconds), ("clientToken", token)])
                    out.append((op.base + "/accepted", bytes(accepted)))
                    if state["desired"] != nil, let delta = result["state"]?["delta"], !delta.isNull {
                        let body = jsonObject([("version", version), ("timestamp", seconds), ("state", delta),
                                               ("metadata", metadata(delta, seconds)), ("clientToken", token)])
                        out.append((op.base + "/delta", bytes(body)))
                    }
                    func document(_ d: JSONValue?) -> JSONValue? {
                        guard let d else { return nil }
                        let st = jsonObject([("desired", d["state"]?["desired"]), ("reported", d["state"]?["reported"])])
                        return jsonObject([("state", st), ("metadata", metadata(st, seconds)), ("version", d["version"])])
                    }
                    let current = jsonObject([("state", result["state"]), ("version", version)])
                    let documents = jsonObject([("previous", document(previous)), ("current", document(current)),
                                                ("timestamp", seconds), ("clientToken", token)])
                    out.append((op.base + "/documents", bytes(documents)))
                    return out
                }
            }
        } catch let e as FleetError {
            return [rejected(op, e.httpStatus, e.message, token: token, seconds)]
        } catch {
            return [rejected(op, 500, "Internal service failure", token: token, seconds)]
        }
    }

    /// The answer to a request over a connection's limit of requests in flight.
    func throttled(_ op: ShadowOperation) -> (topic: String, payload: [UInt8]) {
        rejected(op, 429, "Too Many Requests", token: nil, .int(clock.now() / 1000))
    }

    private func rejected(_ op: ShadowOperation, _ code: Int, _ message: String, token: JSONValue?, _ seconds: JSONValue) -> (topic: String, payload: [UInt8]) {
        (op.base + "/rejected", bytes(jsonObject([("code", .int(code)), ("message", .string(message)),
                                                 ("timestamp", seconds), ("clientToken", token)])))
    }

    private func bytes(_ v: JSONValue) -> [UInt8] { Array(v.compact.utf8) }

    /// AWS's metadata: the same tree as the state, each leaf replaced by `{"timestamp": t}`.
    private func metadata(_ v: JSONValue?, _ seconds: JSONValue) -> JSONValue? {
        guard let v else { return nil }
        switch v {
        case .object(let members):
            return .object(members.map { JSONMember($0.key, metadata($0.value, seconds) ?? .null) })
        case .array(let items):
            return .array(items.map { metadata($0, seconds) ?? .null })
        default:
            return jsonObject([("timestamp", seconds)])
        }
    }
}
