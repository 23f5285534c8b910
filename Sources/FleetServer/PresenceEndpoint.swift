// FleetServer: `POST /_fleetdex/presence`, where an AWS IoT topic rule's HTTPS action delivers
// `SELECT * FROM '$aws/events/presence/#'`: one lifecycle event per request, a JSON array of
// them (batching), JSON Lines, or `{topic, payload}` envelopes, as `ingest-events` takes them.
// Authenticated by SigV4 (service iot, as a rule's HTTP destination signs) or a static token.
// The destination's confirmation request is recorded for `fleetdex presence-destination`.
import FleetIndex
import Foundation
import NIOPosix

extension Dispatcher {
    func presence(_ r: SignedRequest, requestId: String) async -> WireResponse {
        let route = Route.rest("iot")
        guard r.method == "POST" else {
            return fail(FleetError(.unknownOperation, "POST lifecycle events to /_fleetdex/presence"), route, requestId: requestId)
        }
        if !presenceTokenMatches(r) {
            do {
                let v = try signer.verify(r, now: clock.now() / 1000)
                guard v.service == "iot" else { throw SigV4Failure.badScope("presence is signed for the iot service, not \(v.service)") }
            } catch let f as SigV4Failure {
                return fail(AuthErrors.code(f, protocol: "rest-json"), route, requestId: requestId)
            } catch {
                return fail(FleetError(.internalFailure, "\(error)"), route, requestId: requestId)
            }
        }
        guard r.body.count <= configuration.maxPresenceBytes else {
            return fail(FleetError(.requestTooLarge, "the presence body is over \(configuration.maxPresenceBytes) bytes"), route, requestId: requestId)
        }
        if r.header("x-amz-rules-engine-message-type") == "DestinationConfirmation" { return await confirm(r, route, requestId) }
        let inputs = Self.presenceInputs(r.body)
        guard let runner else {
            return fail(FleetError(.internalFailure, "this server takes no presence"), route, requestId: requestId)
        }
        let result = await runner.submit(inputs)
        let body = jsonObject([
            ("accepted", .int(result.summary.accepted)), ("duplicate", .int(result.summary.duplicate)),
            ("stale", .int(result.summary.stale)), ("rejected", .int(result.summary.rejected)),
            ("rejectedLines", result.rejected.isEmpty ? nil : .array(result.rejected.map {
                jsonObject([("line", .int($0.line)), ("message", .string($0.message))])
            })),
        ])
        let allBad = !inputs.isEmpty && result.summary.rejected == inputs.count
        return WireResponse(status: allBad ? 400 : 200, contentType: "application/json", text: body.compact)
    }

    private func presenceTokenMatches(_ r: SignedRequest) -> Bool {
        guard let token = configuration.presenceToken, !token.isEmpty else { return false }
        var given = r.header("x-fleetdex-token")
        if given == nil, let auth = r.header("authorization"), auth.hasPrefix("Bearer ") { given = String(auth.dropFirst(7)) }
        guard let given else { return false }
        return SigV4.constantTimeEqual(Array(given.utf8), Array(token.utf8))
    }

    /// A topic rule destination's confirmation: the token and the URL that enables it.
    private func confirm(_ r: SignedRequest, _ route: Route, _ requestId: String) async -> WireResponse {
        do {
            let doc = try JSONValue.parse(bytes: r.body)
            guard let token = doc["confirmationToken"]?.stringValue else {
                throw FleetError.invalid(member: "confirmationToken", "is required in a DestinationConfirmation")
            }
            let record = jsonObject([("confirmationToken", .string(token)), ("enableUrl", doc["enableUrl"]),
                                     ("arn", doc["arn"]), ("receivedAt", .string(Timestamp.iso(clock.now())))])
            try await pool.run(.write) { db in try db.setMeta("presence.destination-confirmation", record.compact) }
            var confirmed: Int?
            if configuration.confirmDestinations, let url = doc["enableUrl"]?.stringValue, url.hasPrefix("https://") || url.hasPrefix("http://") {
                // A blocking GET of up to 10 s: on a thread of NIO's shared pool, not a
                // cooperative thread every request's task needs.
                confirmed = try await NIOThreadPool.singleton.runIfActive { WebhookDelivery.request(url, []) }
            }
            return WireResponse(status: 200, contentType: "application/json",
                                text: jsonObject([("recorded", .bool(true)), ("enableUrlStatus", confirmed.map { .int($0) })]).compact)
        } catch let e as FleetError {
            return fail(e, route, requestId: requestId)
        } catch {
            return fail(FleetError(.serialization, "the confirmation is not valid JSON: \(error)"), route, requestId: requestId)
        }
    }

    /// One event, an array of them, or JSON Lines: numbered as `ingest-events` numbers them
    /// (array elements from 1, lines by line).
    static func presenceInputs(_ body: [UInt8]) -> [PresenceInput] {
        let first = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if first == UInt8(ascii: "["), let doc = try? JSONValue.parse(bytes: body), let items = doc.arrayValue {
            return items.enumerated().map { PresenceInput(line: $0.offset + 1, json: Array($0.element.compact.utf8)) }
        }
        var out: [PresenceInput] = []
        var line = 0
        for raw in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line += 1
            var bytes = Array(raw)
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            out.append(PresenceInput(line: line, json: bytes))
        }
        return out
    }
}
