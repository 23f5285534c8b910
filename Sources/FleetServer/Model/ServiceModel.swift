// FleetServer: the botocore model table (Model/aws-operations.json, embedded at build time)
// as the server reads it: per service its protocol and metadata, per operation its HTTP
// binding (method, URI template, where each input member goes) and the output shape the
// protocol serializes. Routing and member binding come from here, not from hand-written routes.
import FleetIndex

/// One service of the table (`iot`, `iot-data`, `sns`, `sqs`).
public struct ServiceModel: Sendable {
    public let name: String
    public let protocolName: String
    public let signingName: String
    public let apiVersion: String
    public let xmlNamespace: String?
    public let targetPrefix: String?
    public let operations: [String: OperationModel]
    /// Error shape name → (code, HTTP status), as the model gives them.
    public let errors: [String: (code: String, status: Int?)]
}

/// One operation: its HTTP binding and its shapes (as the table's JSON).
public struct OperationModel: Sendable {
    public let service: String
    public let name: String
    public let method: String
    public let requestURI: URITemplate
    public let responseCode: Int
    public let input: JSONValue?
    public let output: JSONValue?
    /// The query protocol's result element (`CreateTopicResult`).
    public let resultWrapper: String?
}

/// The table, loaded once.
public struct ModelTable: Sendable {
    public let services: [String: ServiceModel]

    /// The embedded table.
    public static let embedded: ModelTable = {
        guard let text = EmbeddedModel.files.first(where: { $0.0 == "aws-operations.json" })?.1,
              let table = try? ModelTable(json: text) else {
            fatalError("Model/aws-operations.json is missing or unreadable: the build embeds it")
        }
        return table
    }()

    public init(json text: String) throws {
        let doc = try JSONValue.parse(text)
        var services: [String: ServiceModel] = [:]
        for member in doc["services"]?.objectValue ?? [] {
            let s = member.value
            let md = s["metadata"]
            var ops: [String: OperationModel] = [:]
            for op in s["operations"]?.objectValue ?? [] {
                let o = op.value
                ops[op.key] = OperationModel(
                    service: member.key, name: op.key, method: o["method"]?.stringValue ?? "POST",
                    requestURI: URITemplate(o["requestUri"]?.stringValue ?? "/"),
                    responseCode: Int(o["responseCode"]?.int64Value ?? 200),
                    input: o["input"], output: o["output"],
                    resultWrapper: o["output"]?["resultWrapper"]?.stringValue)
            }
            var errors: [String: (code: String, status: Int?)] = [:]
            for e in s["errors"]?.objectValue ?? [] {
                errors[e.key] = (e.value["code"]?.stringValue ?? e.key, e.value["httpStatusCode"]?.int64Value.map { Int($0) })
            }
            services[member.key] = ServiceModel(
                name: member.key, protocolName: md?["protocol"]?.stringValue ?? "",
                signingName: md?["signingName"]?.stringValue ?? member.key, apiVersion: md?["apiVersion"]?.stringValue ?? "",
                xmlNamespace: md?["xmlNamespace"]?.stringValue, targetPrefix: md?["targetPrefix"]?.stringValue,
                operations: ops, errors: errors)
        }
        self.services = services
    }
}

/// A request URI template of the rest protocols: `/things/{thingName}`, `/indices/search`,
/// `/things/{thingName}/shadow?name={shadowName}`… Greedy labels (`{key+}`) take the rest.
public struct URITemplate: Sendable {
    public enum Segment: Sendable, Equatable {
        case literal(String)
        case label(String, greedy: Bool)
    }
    public let segments: [Segment]
    /// Fixed query pairs a template carries (`?x-id=Publish`).
    public let fixedQuery: [(String, String)]

    public init(_ template: String) {
        let parts = template.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        segments = parts[0].split(separator: "/", omittingEmptySubsequences: true).map { seg in
            if seg.hasPrefix("{") && seg.hasSuffix("}") {
                let name = seg.dropFirst().dropLast()
                return name.hasSuffix("+") ? .label(String(name.dropLast()), greedy: true) : .label(String(name), greedy: false)
            }
            return .literal(String(seg))
        }
        var fixed: [(String, String)] = []
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let v = kv.count > 1 ? String(kv[1]) : ""
                if !v.hasPrefix("{") { fixed.append((String(kv[0]), v)) }
            }
        }
        fixedQuery = fixed
    }

    /// The labels' values when `path` (percent-decoded segments) matches, else nil.
    public func match(_ path: [String]) -> [String: String]? {
        var labels: [String: String] = [:]
        var i = 0
        for (k, seg) in segments.enumerated() {
            switch seg {
            case .literal(let l):
                guard i < path.count, path[i] == l else { return nil }
                i += 1
            case .label(let name, let greedy):
                if greedy {
                    guard k == segments.count - 1, i < path.count else { return nil }
                    labels[name] = path[i...].joined(separator: "/")
                    i = path.count
                } else {
                    guard i < path.count, !path[i].isEmpty else { return nil }
                    labels[name] = path[i]
                    i += 1
                }
            }
        }
        return i == path.count ? labels : nil
    }

    /// More literal segments win when two templates match one path.
    public var specificity: Int {
        segments.reduce(0) { acc, seg in
            if case .literal = seg { return acc + 2 }
            return acc + 1
        }
    }
}
