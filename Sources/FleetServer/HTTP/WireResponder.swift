// FleetServer: Hummingbird's side. Every request, whatever its path and method, goes to the
// Dispatcher with its raw path and query (SigV4 signs them as sent).
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct WireResponder: HTTPResponder {
    typealias Context = WireRequestContext
    let dispatcher: Dispatcher
    /// The open connections' watches (DisconnectWatch): a request's task is cancelled when its
    /// client goes.
    let connections: DisconnectWatch.Registry

    func respond(to request: Request, context: Context) async throws -> Response {
        let raw = request.uri.string
        let parts = raw.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let limit = parts.first == "/_fleetdex/presence" ? dispatcher.configuration.maxPresenceBytes : dispatcher.configuration.maxBodyBytes
        var req = request
        let buffer: ByteBuffer
        do {
            buffer = try await req.collectBody(upTo: limit + 1)
        } catch {
            return Self.response(WireResponse(status: 413, contentType: "application/json",
                                              text: #"{"message":"the request body is too large"}"#))
        }
        let signed = SignedRequest(
            method: request.method.rawValue, rawPath: String(parts.first ?? "/"), rawQuery: parts.count > 1 ? String(parts[1]) : "",
            headers: request.headers.map { ($0.name.rawName, $0.value) }
                + (request.head.authority.map { [("host", $0)] } ?? []),
            body: Array(buffer.readableBytesView))
        // Every request is answered at one priority, in arrival order: run in the connection's
        // own task, some connections' requests went first every time (under 32 connections of
        // searches, p50 60 ms and p99 600 ms; detached at one priority, p99 134 ms).
        // A detached task is not cancelled with the connection: the connection's watch cancels
        // it when the client goes, and so does cancelling this task.
        let dispatcher = dispatcher
        let task = Task.detached(priority: .medium) { await dispatcher.handle(signed) }
        let answer: @Sendable () async -> WireResponse = {
            await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        }
        guard let watch = connections.watch(context.channel) else { return Self.response(await answer()) }
        return Self.response(await watch.whileAnswering(cancel: { task.cancel() }, answer))
    }

    static func response(_ w: WireResponse) -> Response {
        var fields = HTTPFields()
        for (k, v) in w.headers { if let name = HTTPField.Name(k) { fields.append(HTTPField(name: name, value: v)) } }
        fields.append(HTTPField(name: .contentLength, value: String(w.body.count)))
        return Response(status: HTTPResponse.Status(code: w.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: w.body)))
    }
}
