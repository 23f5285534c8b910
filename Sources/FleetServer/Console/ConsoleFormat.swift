// FleetServer console: links, times and durations as the pages write them.
import FleetIndex
import Foundation

/// Formatting shared by the console's pages.
enum ConsoleFormat {
    /// `/console/things/pump-17`: each segment percent-encoded.
    static func path(_ segments: String...) -> String {
        "/console" + segments.map { "/" + percentEncode($0) }.joined()
    }

    /// A path with a query string (nil values left out).
    static func url(_ path: String, _ query: [(String, String?)]) -> String {
        let items = query.compactMap { k, v in v.map { percentEncode(k) + "=" + percentEncode($0) } }
        return items.isEmpty ? path : path + "?" + items.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters kept, every other byte `%XX`.
    static func percentEncode(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }

    /// `2026-11-28T10:05:00Z` (to the second).
    static func time(_ ms: Int64) -> String {
        let s = Timestamp.iso(ms - ((ms % 1000) + 1000) % 1000)
        return s.hasSuffix("+00:00") ? String(s.dropLast(6)) + "Z" : s
    }

    /// An ISO time of the engine's answers (`…+00:00`) in the console's form.
    static func time(_ iso: String?) -> String {
        guard let iso, let ms = Timestamp.parse(iso) else { return iso ?? "" }
        return time(ms)
    }

    /// `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`.
    static func duration(_ ms: Int64) -> String {
        let s = max(0, ms / 1000)
        if s < 60 { return "\(s) s" }
        let m = s / 60
        if m < 60 { return "\(m) min" }
        let h = m / 60
        if h < 24 { return m % 60 == 0 ? "\(h) h" : "\(h) h \(m % 60) min" }
        let d = h / 24
        return h % 24 == 0 ? "\(d) d" : "\(d) d \(h % 24) h"
    }

    /// A JSON value as a short text: strings bare, the rest compact JSON.
    static func value(_ v: JSONValue?) -> String {
        guard let v else { return "" }
        if case .string(let s) = v { return s }
        return v.compact
    }

    /// Without leading and trailing white space.
    static func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
}
