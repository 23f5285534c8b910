// FleetMQTT codec: topic filters (§4.7): validation of `+` and `#`, and matching a topic name
// (a `$`-topic is not matched by a filter starting with a wildcard). AWS IoT's limits: a topic
// of at most 256 bytes and 7 slashes for the customer part are not enforced here (the 128 KB
// packet limit bounds everything).

public enum TopicFilter {
    /// Whether `filter` is a valid filter: `#` only as the last level, `+` and `#` alone in their level.
    public static func isValid(_ filter: String) -> Bool {
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard !filter.isEmpty else { return false }
        for (i, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || i != levels.count - 1) { return false }
            if level.contains(UInt8(ascii: "+")) && level.count != 1 { return false }
        }
        return true
    }

    /// Whether the topic name `topic` matches the valid filter `filter`.
    public static func matches(_ filter: String, _ topic: String) -> Bool {
        let f = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let t = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if topic.utf8.first == UInt8(ascii: "$"), let first = f.first, first.elementsEqual("+".utf8) || first.elementsEqual("#".utf8) {
            return false
        }
        var i = 0
        while i < f.count {
            if f[i].elementsEqual("#".utf8) { return true }
            guard i < t.count else { return false }
            if !f[i].elementsEqual("+".utf8) && !f[i].elementsEqual(t[i]) { return false }
            i += 1
        }
        return i == t.count
    }

    /// Whether the filter has a wildcard.
    public static func hasWildcard(_ filter: String) -> Bool {
        filter.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }
    }
}
