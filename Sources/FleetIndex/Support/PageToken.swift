// FleetIndex: opaque, tamper-checked pagination tokens.

/// Encodes a resume position as an opaque token; decoding rejects tokens that were edited
/// or that belong to another listing.
public enum PageToken {
    /// `scope` names the listing (and its query), so a token cannot be replayed elsewhere.
    public static func encode(_ position: String, scope: String) -> String {
        let payload = position + "\u{1}" + String(checksum(position + "\u{1}" + scope), radix: 16)
        return base64url(Array(payload.utf8))
    }

    public static func decode(_ token: String, scope: String) throws(FleetError) -> String {
        guard let bytes = unbase64url(token) else { throw .invalid("the next token is not valid") }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let sep = text.lastIndex(of: "\u{1}") else { throw .invalid("the next token is not valid") }
        let position = String(text[..<sep])
        let sum = String(text[text.index(after: sep)...])
        guard sum == String(checksum(position + "\u{1}" + scope), radix: 16) else {
            throw .invalid("the next token is not valid for this request")
        }
        return position
    }

    /// The position of an optional `--next-token` (nil when there is none).
    public static func position(_ token: String?, scope: String) throws(FleetError) -> String? {
        guard let token else { return nil }
        return try decode(token, scope: scope)
    }

    static func checksum(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325 ^ 0x66_6c_65_65_74_64_65_78  // "fleetdex"
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64url(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            let n = min(3, data.count - i)
            var v: UInt32 = 0
            for k in 0..<3 { v = v << 8 | UInt32(k < n ? data[i + k] : 0) }
            for k in 0..<(n + 1) { out.append(alphabet[Int((v >> UInt32(18 - 6 * k)) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unbase64url(_ s: String) -> [UInt8]? {
        var table = [Int](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = i }
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in s.utf8 {
            let v = table[Int(c)]
            guard v >= 0 else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xff))
            }
        }
        return out
    }
}
