// FleetServer: the one escaping of text into markup, for the query protocol's XML and the
// console's HTML alike.

enum Markup {
    /// `&`, `<`, `>`, `"` and `'` as character references (safe in text and in quoted
    /// attribute values), CR and other control characters but newline and tab as numeric
    /// references (XML would otherwise normalize or refuse them). Text with none of them is
    /// returned as it is.
    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) }) else {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += "&#\(ch.value);" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
