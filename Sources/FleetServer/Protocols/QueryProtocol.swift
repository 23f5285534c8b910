// FleetServer: the query protocol (SNS; SQS for older SDKs). A form-encoded `Action=…&Version=…`
// request, its members flattened into dotted names (`Attributes.entry.1.key`,
// `AttributeName.1`), answered in XML: `<ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata><RequestId>…` and errors as `<ErrorResponse><Error><Type>…<Code>…`.
import FleetIndex
import Foundation

struct QueryProtocol {
    let service: ServiceModel
    /// SQS's query names, which its JSON model no longer carries: flattened lists and maps are
    /// named in the singular, map entries `Name`/`Value`.
    private var singular: [String: String] {
        service.name == "sqs"
            ? ["Messages": "Message", "Attributes": "Attribute", "QueueUrls": "QueueUrl", "MessageAttributes": "MessageAttribute",
               "AttributeNames": "AttributeName", "MessageAttributeNames": "MessageAttributeName",
               "MessageSystemAttributeNames": "MessageSystemAttributeName"]
            : [:]
    }

    /// The form's pairs: the body (when form-encoded) and the URL's query.
    static func parameters(_ r: SignedRequest) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in r.queryItems { out[k] = v }
        let text = String(decoding: r.body, as: UTF8.self)
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { SigV4.percentDecode(s.replacingOccurrences(of: "+", with: " ")) }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    func bind(_ params: [String: String]) throws(FleetError) -> (OperationModel, OperationInput) {
        guard let action = params["Action"], let op = service.operations[action] else {
            throw FleetError(.invalidAction, "The action \(params["Action"] ?? "(none)") is not valid for this endpoint")
        }
        var members: [JSONMember] = []
        for m in op.input?["members"]?.objectValue ?? [] {
            if let v = value(params, prefix: m.value["locationName"]?.stringValue ?? singularName(m.key, m.value), shape: m.value) {
                members.append(JSONMember(m.key, v))
            }
        }
        return (op, OperationInput(.object(members)))
    }

    /// A map entry's element names: the model's, else SQS's `Name`/`Value` or `key`/`value`.
    private func entryNames(_ shape: JSONValue) -> (key: String, value: String) {
        (shape["key"]?["locationName"]?.stringValue ?? (service.name == "sqs" ? "Name" : "key"),
         shape["value"]?["locationName"]?.stringValue ?? (service.name == "sqs" ? "Value" : "value"))
    }

    private func singularName(_ name: String, _ shape: JSONValue) -> String {
        shape["flattened"]?.boolValue == true ? (singular[name] ?? name) : name
    }

    /// The member at `prefix`, decoded by its shape; nil when absent.
    private func value(_ p: [String: String], prefix: String, shape: JSONValue) -> JSONValue? {
        let flattened = shape["flattened"]?.boolValue == true
        switch shape["type"]?.stringValue ?? "string" {
        case "list":
            let base = flattened ? prefix : prefix + "." + (shape["member"]?["locationName"]?.stringValue ?? "member")
            var out: [JSONValue] = []
            var n = 1
            while let v = value(p, prefix: "\(base).\(n)", shape: shape["member"] ?? .null) { out.append(v); n += 1 }
            return out.isEmpty ? (p[prefix] != nil ? .array([]) : nil) : .array(out)
        case "map":
            let base = flattened ? prefix : prefix + ".entry"
            let (keyName, valueName) = entryNames(shape)
            var out: [JSONMember] = []
            var n = 1
            while let k = p["\(base).\(n).\(keyName)"] {
                if let v = value(p, prefix: "\(base).\(n).\(valueName)", shape: shape["value"] ?? .null) { out.append(JSONMember(k, v)) }
                n += 1
            }
            return out.isEmpty ? nil : .object(out)
        case "structure":
            var out: [JSONMember] = []
            for m in shape["members"]?.objectValue ?? [] {
                if let v = value(p, prefix: prefix + "." + (m.value["locationName"]?.stringValue ?? m.key), shape: m.value) {
                    out.append(JSONMember(m.key, v))
                }
            }
            return out.isEmpty ? nil : .object(out)
        case "boolean":
            return p[prefix].map { .bool($0 == "true") }
        case "integer", "long":
            return p[prefix].map { Int64($0).map(JSONValue.int) ?? .string($0) }
        default:
            return p[prefix].map(JSONValue.string)
        }
    }

    func respond(_ op: OperationModel, _ output: JSONValue, requestId: String) -> WireResponse {
        var xml = "<?xml version=\"1.0\"?>\n<\(op.name)Response xmlns=\"\(namespace)\">"
        // SQS's JSON model names no result element; its query answers use `<ActionResult>`.
        let hasOutput = !(op.output?["members"]?.objectValue ?? []).isEmpty
        if let wrapper = op.resultWrapper ?? (hasOutput ? op.name + "Result" : nil) {
            xml += "<\(wrapper)>"
            for m in op.output?["members"]?.objectValue ?? [] {
                if let v = output[m.key], !v.isNull { xml += element(singularName(m.key, m.value), v, m.value) }
            }
            xml += "</\(wrapper)>"
        }
        xml += "<ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata></\(op.name)Response>"
        return WireResponse(status: 200, contentType: "text/xml", text: xml)
    }

    private var namespace: String {
        service.xmlNamespace ?? "http://queue.amazonaws.com/doc/\(service.apiVersion)/"
    }

    private func element(_ name: String, _ v: JSONValue, _ shape: JSONValue) -> String {
        let flattened = shape["flattened"]?.boolValue == true
        switch shape["type"]?.stringValue ?? "string" {
        case "list":
            let items = v.arrayValue ?? []
            let memberShape = shape["member"] ?? .null
            if flattened { return items.map { element(name, $0, memberShape) }.joined() }
            let inner = memberShape["locationName"]?.stringValue ?? "member"
            return "<\(name)>" + items.map { element(inner, $0, memberShape) }.joined() + "</\(name)>"
        case "map":
            let (keyName, valueName) = entryNames(shape)
            let entries = (v.objectValue ?? []).map { "<\(keyName)>\(Markup.escape($0.key))</\(keyName)>" + element(valueName, $0.value, shape["value"] ?? .null) }
            if flattened { return entries.map { "<\(name)>\($0)</\(name)>" }.joined() }
            return "<\(name)>" + entries.map { "<entry>\($0)</entry>" }.joined() + "</\(name)>"
        case "structure":
            var out = "<\(name)>"
            for m in shape["members"]?.objectValue ?? [] {
                if let x = v[m.key], !x.isNull { out += element(m.value["locationName"]?.stringValue ?? singularName(m.key, m.value), x, m.value) }
            }
            return out + "</\(name)>"
        default:
            let text: String
            switch v {
            case .string(let s): text = s
            case .bool(let b): text = b ? "true" : "false"
            case .number(let n): text = n
            default: text = v.compact
            }
            return "<\(name)>\(Markup.escape(text))</\(name)>"
        }
    }

    /// An error in the query protocol's XML.
    static func error(_ e: FleetError, service: ServiceModel, requestId: String) -> WireResponse {
        let known = service.errors[e.exception]
        let code = known?.code ?? e.exception
        let status = known?.status ?? e.httpStatus
        let type = status >= 500 ? "Receiver" : "Sender"
        let ns = service.xmlNamespace ?? "http://queue.amazonaws.com/doc/\(service.apiVersion)/"
        let xml = "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"\(ns)\"><Error><Type>\(type)</Type><Code>\(Markup.escape(code))</Code>"
            + "<Message>\(Markup.escape(e.message))</Message></Error><RequestId>\(requestId)</RequestId></ErrorResponse>"
        return WireResponse(status: status, contentType: "text/xml", text: xml)
    }

}
