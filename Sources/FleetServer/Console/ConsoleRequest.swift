// FleetServer console: a browser's request as the console reads it: the decoded path, the
// query string's and the form body's fields (`+` is a space, as browsers send them), and
// the cookies.
import Foundation

/// One request to `/console…`.
struct ConsoleRequest {
    var method: String
    /// Percent-decoded path segments after `/console` (`/console/things/x` → ["things", "x"]).
    var segments: [String]
    /// The path as sent (for `next=` after logging in).
    var rawPath: String
    var rawQuery: String
    var query: [String: String]
    var form: [String: String]
    var cookies: [String: String]
    var headers: [(name: String, value: String)]

    /// A form body larger than this is refused (413) before it is read into fields.
    static let maxFormBytes = 16 * 1024

    init(_ r: SignedRequest) {
        method = r.method
        rawPath = r.rawPath
        rawQuery = r.rawQuery
        headers = r.headers
        let path = r.rawPath.hasPrefix("/console") ? String(r.rawPath.dropFirst("/console".count)) : r.rawPath
        segments = path.split(separator: "/", omittingEmptySubsequences: true).map { SigV4.percentDecode(String($0)) }
        query = Self.fields(r.rawQuery)
        let contentType = r.header("content-type")?.lowercased() ?? ""
        form = r.method == "POST" && contentType.hasPrefix("application/x-www-form-urlencoded")
            ? Self.fields(String(decoding: r.body, as: UTF8.self)) : [:]
        var jar: [String: String] = [:]
        for (name, value) in r.headers where SigV4.equalIgnoringASCIICase(name, "cookie") {
            for part in value.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let k = kv[0].trimmingCharacters(in: .whitespaces), v = kv[1].trimmingCharacters(in: .whitespaces)
                if jar[k] == nil { jar[k] = v }
            }
        }
        cookies = jar
    }

    /// `a=1&b=x+y` → ["a": "1", "b": "x y"]; the first of a repeated name wins.
    static func fields(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { SigV4.percentDecode(s.replacingOccurrences(of: "+", with: " ")) }
            let k = decode(kv[0])
            if out[k] == nil { out[k] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }

    func header(_ name: String) -> String? {
        headers.first { SigV4.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// A query-string field, nil when absent or empty.
    func param(_ name: String) -> String? {
        guard let v = query[name], !v.isEmpty else { return nil }
        return v
    }
}

extension ConsoleRequest {
    /// A cookie's value from the request's `Cookie` headers.
    static func cookie(_ name: String, in r: SignedRequest) -> String? {
        for (n, value) in r.headers where SigV4.equalIgnoringASCIICase(n, "cookie") {
            for part in value.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name { return kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return nil
    }
}
