// FleetServer: the rest-json protocol (iot, iot-data). The operation is found by method and
// URI template; its members are bound from the path labels, the query string, the headers
// and the JSON body, each where the model's `location` puts it. Responses carry the model's
// success status; errors the service's status, `x-amzn-ErrorType` and `{"message": …}`.
import FleetIndex

struct RestJSONProtocol {
    let service: ServiceModel
    /// Operations by method, most specific template first.
    private let routes: [String: [OperationModel]]

    init(service: ServiceModel) {
        self.service = service
        var routes: [String: [OperationModel]] = [:]
        for op in service.operations.values { routes[op.method, default: []].append(op) }
        for k in routes.keys {
            routes[k]!.sort { a, b in
                a.requestURI.specificity != b.requestURI.specificity ? a.requestURI.specificity > b.requestURI.specificity : a.name < b.name
            }
        }
        self.routes = routes
    }

    /// The operation a request names, with its input members.
    func bind(_ r: SignedRequest) throws(FleetError) -> (OperationModel, OperationInput) {
        let segments = r.rawPath.split(separator: "/", omittingEmptySubsequences: true).map { SigV4.percentDecode(String($0)) }
        let query = r.queryItems
        var found: (OperationModel, [String: String])?
        for op in routes[r.method.uppercased()] ?? [] {
            guard let labels = op.requestURI.match(segments) else { continue }
            if op.requestURI.fixedQuery.allSatisfy({ f in query.contains { $0.0 == f.0 && $0.1 == f.1 } }) {
                found = (op, labels)
                break
            }
        }
        guard let (op, labels) = found else {
            throw FleetError(.unknownOperation, "no \(service.name) operation answers \(r.method) \(r.rawPath)")
        }
        var members: [JSONMember] = []
        var bodyMembers: [String: JSONValue] = [:]
        let shape = op.input
        let memberShapes = shape?["members"]?.objectValue ?? []
        let payloadMember = memberShapes.first { $0.value["location"]?.stringValue == "payload" }
        if payloadMember == nil && memberShapes.contains(where: { ($0.value["location"]?.stringValue ?? "body") == "body" }) {
            if !r.body.isEmpty {
                let doc: JSONValue
                do { doc = try JSONValue.parse(bytes: r.body) } catch {
                    throw FleetError(.serialization, "the request body is not valid JSON: \(error)")
                }
                guard let o = doc.objectValue else { throw FleetError(.serialization, "the request body must be a JSON object") }
                for m in o { bodyMembers[m.key] = m.value }
            }
        }
        for m in memberShapes {
            let name = m.key, s = m.value
            let locationName = s["locationName"]?.stringValue ?? name
            switch s["location"]?.stringValue ?? "body" {
            case "uri":
                if let v = labels[locationName] { members.append(JSONMember(name, try Self.scalar(v, s, member: name))) }
            case "querystring":
                let values = query.filter { $0.0 == locationName }.map(\.1)
                guard !values.isEmpty else { continue }
                if s["type"]?.stringValue == "list" {
                    members.append(JSONMember(name, .array(try values.map { v throws(FleetError) in try Self.scalar(v, s["member"] ?? .null, member: name) })))
                } else {
                    members.append(JSONMember(name, try Self.scalar(values[0], s, member: name)))
                }
            case "header":
                if let v = r.header(locationName) { members.append(JSONMember(name, try Self.scalar(v, s, member: name))) }
            case "payload":
                members.append(JSONMember(name, .string(String(decoding: r.body, as: UTF8.self))))
            default:
                if let v = bodyMembers[name] { members.append(JSONMember(name, v)) }
            }
        }
        return (op, OperationInput(.object(members)))
    }

    /// A string from the path, query or a header, typed by its shape.
    static func scalar(_ text: String, _ shape: JSONValue, member: String) throws(FleetError) -> JSONValue {
        switch shape["type"]?.stringValue ?? "string" {
        case "integer", "long":
            guard let n = Int64(text) else { throw FleetError.invalid(member: member, "must be an integer, not '\(text)'") }
            return .int(n)
        case "boolean":
            guard text == "true" || text == "false" else { throw FleetError.invalid(member: member, "must be true or false") }
            return .bool(text == "true")
        case "double", "float":
            guard let d = Double(text) else { throw FleetError.invalid(member: member, "must be a number") }
            return .double(d)
        default:
            return .string(text)
        }
    }

    /// The success response: the model's status, header members as headers, a payload member
    /// as the whole body, else the JSON document.
    func respond(_ op: OperationModel, _ output: JSONValue) -> WireResponse {
        let shapes = op.output?["members"]?.objectValue ?? []
        if let payload = shapes.first(where: { $0.value["location"]?.stringValue == "payload" }) {
            // iot-data's shadow documents: the engine's response is the document itself.
            let body = output[payload.key].map { $0.stringValue.map { Array($0.utf8) } ?? JSONBytes.encode($0) } ?? JSONBytes.encode(output)
            return WireResponse(status: op.responseCode, headers: [("Content-Type", "application/json")], body: body)
        }
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        var body: [JSONMember] = []
        for m in output.objectValue ?? [] {
            if let s = shapes.first(where: { $0.key == m.key })?.value, s["location"]?.stringValue == "header" {
                headers.append((s["locationName"]?.stringValue ?? m.key, m.value.stringValue ?? m.value.compact))
            } else {
                body.append(m)
            }
        }
        // Bytes written directly (JSONBytes), with no String in between: when the body was built
        // as a String, a page of 500 documents spent a quarter of the server's time on it.
        return WireResponse(status: op.responseCode, headers: headers, body: JSONBytes.encode(.object(body), reservingCapacity: 16 << 10))
    }

    /// An error as rest-json services send it.
    static func error(_ e: FleetError, service: ServiceModel) -> WireResponse {
        let status = service.errors[e.exception]?.status ?? e.httpStatus
        let body = jsonObject([("message", .string(e.message))])
        return WireResponse(status: status, headers: [("Content-Type", "application/json"), ("x-amzn-ErrorType", e.exception)],
                            body: JSONBytes.encode(body))
    }
}
