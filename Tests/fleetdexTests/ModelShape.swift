// The AWS model table (Model/aws-operations.json, generated from botocore by
// scripts/aws-model-table.py) and a checker of JSON documents against its shapes.
//
// The check is strict: every key of an object must be a member of its structure, required
// members must be present, no key may appear twice, and every value must have its shape's
// type: string (and one of the enum's values when there is an enum), integer (a 32-bit
// integer literal), long (64-bit), float/double (any number), boolean, timestamp (an
// ISO 8601 string as AWS CLI v2 prints it, or epoch seconds), blob (base64 text), list,
// map (keys checked against the key shape too) or structure. Lengths, sizes and ranges are
// checked against the model's min and max. null is never a value. A member the model marks
// `jsonvalue` may hold any JSON value (botocore decodes it).
import FleetIndex
import Foundation

struct AWSModel {
    /// The repository's Model/aws-operations.json, found from this file's path.
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Model/aws-operations.json")

    struct Missing: Error, CustomStringConvertible { var description: String }

    let table: JSONValue

    static func load() throws -> AWSModel {
        let data = try Data(contentsOf: url)
        return AWSModel(table: try JSONValue.parse(bytes: Array(data)))
    }

    var botocoreVersion: String? { table["botocoreVersion"]?.stringValue }

    /// service → operation names, as the table lists them.
    var operations: [String: [String]] {
        var out: [String: [String]] = [:]
        for s in table["services"]?.objectValue ?? [] {
            out[s.key] = (s.value["operations"]?.objectValue ?? []).map(\.key)
        }
        return out
    }

    func operation(_ service: String, _ name: String) throws -> JSONValue {
        guard let s = table["services"]?[service] else { throw Missing(description: "the model table has no service \(service)") }
        guard let op = s["operations"]?[name] else { throw Missing(description: "the model table has no operation \(service) \(name)") }
        return op
    }

    /// The problems of `json` as the output of an operation, one line each; empty when it fits.
    /// Empty text stands for `{}` (an operation that prints nothing).
    func outputProblems(_ json: String, _ service: String, _ operation: String) throws -> [String] {
        try problems(json, service, operation, "output")
    }

    /// The problems of `json` as the input (request body parameters) of an operation.
    func inputProblems(_ json: String, _ service: String, _ operation: String) throws -> [String] {
        try problems(json, service, operation, "input")
    }

    private func problems(_ json: String, _ service: String, _ operation: String, _ side: String) throws -> [String] {
        let op = try self.operation(service, operation)
        let doc: JSONValue
        if json.allSatisfy(\.isWhitespace) {
            doc = .object([])
        } else {
            do { doc = try JSONValue.parse(json) } catch { return ["not JSON: \(error)"] }
        }
        guard let shape = op[side], !shape.isNull else {
            if doc == .object([]) { return [] }
            return ["\(operation) has no \(side) shape, but the document is not empty"]
        }
        var problems: [String] = []
        ShapeChecker.check(doc, shape, "$", &problems)
        return problems
    }
}

enum ShapeChecker {
    /// Appends a line to `problems` for each way `value` does not fit the shape node `node`.
    static func check(_ value: JSONValue, _ node: JSONValue, _ path: String, _ problems: inout [String]) {
        let name = node["shape"]?.stringValue ?? "?"
        let kind = node["type"]?.stringValue ?? "?"
        if node["jsonvalue"]?.boolValue == true { return }
        if value.isNull {
            problems.append("\(path): null is not a value (\(name))")
            return
        }
        switch kind {
        case "structure":
            guard let object = value.objectValue else { return wrong(path, "an object", name, value, &problems) }
            let members = node["members"]?.objectValue ?? []
            var seen = Set<String>()
            for m in object {
                if !seen.insert(m.key).inserted { problems.append("\(path).\(m.key): appears twice") }
                if let sub = members.first(where: { $0.key == m.key }) {
                    check(m.value, sub.value, "\(path).\(m.key)", &problems)
                } else {
                    problems.append("\(path).\(m.key): not a member of \(name)")
                }
            }
            for r in node["requiredMembers"]?.arrayValue ?? [] {
                if let key = r.stringValue, !seen.contains(key) {
                    problems.append("\(path).\(key): required by \(name), missing")
                }
            }
        case "list":
            guard let items = value.arrayValue else { return wrong(path, "a list", name, value, &problems) }
            size(items.count, "items", node, path, name, &problems)
            guard let member = node["member"] else { return }
            for (i, item) in items.enumerated() { check(item, member, "\(path)[\(i)]", &problems) }
        case "map":
            guard let entries = value.objectValue else { return wrong(path, "a map", name, value, &problems) }
            size(entries.count, "entries", node, path, name, &problems)
            var seen = Set<String>()
            for e in entries {
                let at = "\(path)[\(quoted(e.key))]"
                if !seen.insert(e.key).inserted { problems.append("\(at): appears twice") }
                if let key = node["key"] {
                    var keyProblems: [String] = []
                    check(.string(e.key), key, at, &keyProblems)
                    problems += keyProblems.map { "\($0) (a key)" }
                }
                if let v = node["value"] { check(e.value, v, at, &problems) }
            }
        case "string":
            guard let s = value.stringValue else { return wrong(path, "a string", name, value, &problems) }
            if let values = node["enum"]?.arrayValue {
                if !values.contains(.string(s)) {
                    problems.append("\(path): \(quoted(s)) is not one of \(name)'s values")
                }
            } else {
                size(s.unicodeScalars.count, "characters", node, path, name, &problems)
            }
        case "integer", "long":
            guard case .number(let literal) = value else { return wrong(path, "an integer", name, value, &problems) }
            let bits = kind == "integer" ? 32 : 64
            guard let n = Int64(literal), bits == 64 || Int64(Int32.min)...Int64(Int32.max) ~= n else {
                return problems.append("\(path): \(literal) is not a \(bits)-bit integer (\(name))")
            }
            range(Double(n), literal, node, path, name, &problems)
        case "float", "double":
            guard case .number(let literal) = value, let d = Double(literal) else { return wrong(path, "a number", name, value, &problems) }
            range(d, literal, node, path, name, &problems)
        case "boolean":
            guard value.boolValue != nil else { return wrong(path, "true or false", name, value, &problems) }
        case "timestamp":
            switch value {
            case .number: break
            case .string(let s) where isISO8601(s): break
            default: wrong(path, "an ISO 8601 time or epoch seconds", name, value, &problems)
            }
        case "blob":
            guard let s = value.stringValue else { return wrong(path, "base64 text", name, value, &problems) }
            if Data(base64Encoded: s) == nil { problems.append("\(path): not base64 (\(name))") }
            else if let n = Data(base64Encoded: s)?.count { size(n, "bytes", node, path, name, &problems) }
        default:
            problems.append("\(path): the model table has a shape of unknown type \(quoted(kind)) (\(name))")
        }
    }

    static func wrong(_ path: String, _ expected: String, _ name: String, _ value: JSONValue, _ problems: inout [String]) {
        problems.append("\(path): expected \(expected) (\(name)), got \(value.typeName)")
    }

    static func size(_ n: Int, _ unit: String, _ node: JSONValue, _ path: String, _ name: String, _ problems: inout [String]) {
        if let min = node["min"]?.int64Value, n < min { problems.append("\(path): \(n) \(unit), fewer than the \(min) of \(name)") }
        if let max = node["max"]?.int64Value, n > max { problems.append("\(path): \(n) \(unit), more than the \(max) of \(name)") }
    }

    static func range(_ v: Double, _ literal: String, _ node: JSONValue, _ path: String, _ name: String, _ problems: inout [String]) {
        if let min = node["min"]?.doubleValue, v < min { problems.append("\(path): \(literal) is below the minimum \(min) of \(name)") }
        if let max = node["max"]?.doubleValue, v > max { problems.append("\(path): \(literal) is above the maximum \(max) of \(name)") }
    }

    static func quoted(_ s: String) -> String {
        JSONValue.string(s).compact
    }

    /// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), with the fields in their ranges.
    static func isISO8601(_ s: String) -> Bool {
        let c = Array(s.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from + n <= c.count else { return nil }
            var v = 0
            for i in from..<from + n {
                guard c[i] >= 48 && c[i] <= 57 else { return nil }
                v = v * 10 + Int(c[i] - 48)
            }
            return v
        }
        func at(_ i: Int, _ ch: Character) -> Bool { i < c.count && c[i] == ch.asciiValue! }
        guard c.count >= 20, digits(0, 4) != nil, at(4, "-"), let mo = digits(5, 2), at(7, "-"), let d = digits(8, 2),
              at(10, "T"), let h = digits(11, 2), at(13, ":"), let mi = digits(14, 2), at(16, ":"), let sec = digits(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return false }
        var i = 19
        if at(i, ".") {
            i += 1
            let start = i
            while i < c.count && c[i] >= 48 && c[i] <= 57 { i += 1 }
            guard i > start else { return false }
        }
        if at(i, "Z") { return i + 1 == c.count }
        guard at(i, "+") || at(i, "-"), let zh = digits(i + 1, 2), at(i + 3, ":"), let zm = digits(i + 4, 2) else { return false }
        return zh < 24 && zm < 60 && i + 6 == c.count
    }
}
