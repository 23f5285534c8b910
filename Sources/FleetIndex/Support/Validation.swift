// FleetIndex: the botocore model's name patterns and limits, checked before anything is
// written, with AWS's exception names.

/// Checks of request fields against the `iot` model's patterns and lengths.
public enum Validation {
    /// `[a-zA-Z0-9:_-]+`, 1...128: thing, group, type, profile, behavior names.
    public static func name(_ value: String, _ what: String, max: Int = 128) throws(FleetError) {
        guard !value.isEmpty, value.utf8.count <= max else {
            throw .invalid("\(what) '\(value)' must be 1 to \(max) characters long")
        }
        guard value.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw .invalid("\(what) '\(value)' must match [a-zA-Z0-9:_-]+")
        }
    }

    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    /// Attribute name `[a-zA-Z0-9_.,@/:#-]+` (max 128) and value `[a-zA-Z0-9_.,@/:#=\[\]-]*` (max 800).
    public static func attribute(_ key: String, _ value: String) throws(FleetError) {
        guard !key.isEmpty, key.utf8.count <= 128,
              key.utf8.allSatisfy({ isAlnum($0) || "_.,@/:#-".utf8.contains($0) }) else {
            throw .invalid("attribute name '\(key)' must be 1 to 128 characters of [a-zA-Z0-9_.,@/:#-]")
        }
        guard value.utf8.count <= 800 else {
            throw .invalid("the value of attribute '\(key)' is \(value.utf8.count) characters long; the limit is 800")
        }
        guard value.utf8.allSatisfy({ isAlnum($0) || "_.,@/:#=[]-".utf8.contains($0) }) else {
            throw .invalid("the value of attribute '\(key)' ('\(value)') must match [a-zA-Z0-9_.,@/:#=\\[\\]-]*")
        }
    }

    /// `maxResults` within AWS's bounds.
    public static func maxResults(_ v: Int?, default d: Int, max: Int, member: String = "maxResults") throws(FleetError) -> Int {
        guard let v else { return d }
        guard v >= 1 && v <= max else { throw .invalid(member: member, "must be between 1 and \(max), got \(v)") }
        return v
    }
}
