// FleetServer: an operation's input members, bound from the wire by a protocol, read by the
// handlers with the model's names and AWS's errors for a missing or mistyped member.
import FleetIndex

/// The input members of one request (member name → value), as JSON.
public struct OperationInput: Sendable {
    public let value: JSONValue
    public init(_ value: JSONValue) { self.value = value }

    public func has(_ k: String) -> Bool { value[k].map { !$0.isNull } ?? false }

    public func string(_ k: String) throws(FleetError) -> String? {
        guard let v = value[k], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw FleetError.invalid(member: k, "must be a string") }
        return s
    }

    public func required(_ k: String) throws(FleetError) -> String {
        guard let s = try string(k), !s.isEmpty else { throw FleetError.invalid(member: k, "is required") }
        return s
    }

    public func int64(_ k: String) throws(FleetError) -> Int64? {
        guard let v = value[k], !v.isNull else { return nil }
        if let s = v.stringValue, let n = Int64(s) { return n }
        guard case .number(let text) = v, let n = Int64(text) else { throw FleetError.invalid(member: k, "must be an integer") }
        return n
    }

    public func int(_ k: String) throws(FleetError) -> Int? {
        guard let n = try int64(k) else { return nil }
        guard let i = Int(exactly: n), i >= Int(Int32.min), i <= Int(Int32.max) else { throw FleetError.invalid(member: k, "is out of range") }
        return i
    }

    public func bool(_ k: String) throws(FleetError) -> Bool? {
        guard let v = value[k], !v.isNull else { return nil }
        if let b = v.boolValue { return b }
        if let s = v.stringValue, s == "true" || s == "false" { return s == "true" }
        throw FleetError.invalid(member: k, "must be true or false")
    }

    public func double(_ k: String) throws(FleetError) -> Double? {
        guard let v = value[k], !v.isNull else { return nil }
        if let d = v.doubleValue { return d }
        if let s = v.stringValue, let d = Double(s) { return d }
        throw FleetError.invalid(member: k, "must be a number")
    }

    public func json(_ k: String) -> JSONValue? {
        guard let v = value[k], !v.isNull else { return nil }
        return v
    }

    public func strings(_ k: String) throws(FleetError) -> [String]? {
        guard let v = value[k], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw FleetError.invalid(member: k, "must be a list of strings") }
        var out: [String] = []
        for x in a {
            guard let s = x.stringValue else { throw FleetError.invalid(member: k, "must be a list of strings") }
            out.append(s)
        }
        return out
    }

    /// A string map (`Attributes`): JSON object or the query protocol's decoded map.
    public func stringMap(_ k: String) throws(FleetError) -> [String: String]? {
        guard let v = value[k], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw FleetError.invalid(member: k, "must be a map of strings") }
        var out: [String: String] = [:]
        for m in o {
            guard let s = m.value.stringValue else { throw FleetError.invalid(member: k, "must be a map of strings") }
            out[m.key] = s
        }
        return out
    }

    /// A timestamp member in epoch ms: epoch seconds (a JSON number, as rest-json bodies carry
    /// them) or ISO 8601 (as query strings carry them).
    public func time(_ k: String) throws(FleetError) -> Int64? {
        guard let v = value[k], !v.isNull else { return nil }
        if let d = v.doubleValue, d.isFinite, abs(d) <= Double(Timestamp.latest / 1000) { return Int64((d * 1000).rounded()) }
        if let s = v.stringValue {
            if let d = Double(s), d.isFinite, abs(d) <= Double(Timestamp.latest / 1000) { return Int64((d * 1000).rounded()) }
            if let ms = Timestamp.parse(s) { return ms }
        }
        throw FleetError.invalid(member: k, "must be a timestamp (ISO 8601 or epoch seconds)")
    }

    public func requiredTime(_ k: String) throws(FleetError) -> Int64 {
        guard let t = try time(k) else { throw FleetError.invalid(member: k, "is required") }
        return t
    }
}
