// FleetServer: AWS Signature Version 4, verified as AWS verifies it: the canonical request
// rebuilt from what arrived, the credential scope (date, this server's region, the service),
// the signing key derived from the secret, a constant-time compare of the signatures, and at
// most 15 minutes between the signature's time and the server's clock. Both forms: the
// `Authorization` header and the presigned query string.
import Crypto
import FleetIndex
import Foundation

/// A request as it arrived on the wire: the raw (still percent-encoded) path and query.
public struct SignedRequest: Sendable {
    public var method: String
    public var rawPath: String
    public var rawQuery: String { didSet { queryItems = Self.decode(rawQuery) } }
    /// Header names in any case; a name may repeat.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The query's pairs, percent-decoded: decoded once (routing, binding and the signature's
    /// check each read them; decoding them for each was a fifth of a presigned GET's time).
    public private(set) var queryItems: [(String, String)]

    public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        queryItems = Self.decode(rawQuery)
    }

    public func header(_ name: String) -> String? {
        headers.first { SigV4.equalIgnoringASCIICase($0.name, name) }?.value
    }

    static func decode(_ rawQuery: String) -> [(String, String)] {
        guard !rawQuery.isEmpty else { return [] }
        return rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (SigV4.percentDecode(String(kv[0])), kv.count > 1 ? SigV4.percentDecode(String(kv[1])) : "")
        }
    }
}

/// The outcome of checking a signature.
public enum SigV4Failure: Error, Equatable, Sendable {
    /// No `Authorization` header and no presigned query.
    case missing
    /// An access key id this server does not know.
    case unknownKey(String)
    /// The scope names another region, another service, or a date other than the request's.
    case badScope(String)
    /// The signature's time is more than 15 minutes from the server's clock, or a presigned
    /// URL has expired.
    case expired(String)
    /// Malformed header or query parameters.
    case malformed(String)
    /// The signature does not match.
    case mismatch
}

/// Verifies requests signed with one key pair.
public struct SigV4: Sendable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var region: String
    /// The services the scope may name (signing names: iot, iotdata, sns, sqs).
    public var services: Set<String>
    public static let maxSkew: Int64 = 15 * 60
    /// Shared by the copies of this signer.
    let signingKeys = SigningKeys()

    public init(accessKeyId: String, secretAccessKey: String, region: String, services: Set<String>) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.services = services
    }

    /// What a verified request's scope says.
    public struct Verified: Equatable, Sendable {
        public var service: String
        public var accessKeyId: String
    }

    /// Checks `request` at `now` (epoch seconds).
    public func verify(_ request: SignedRequest, now: Int64) throws(SigV4Failure) -> Verified {
        if let auth = request.header("authorization") {
            return try verifyHeader(auth, request, now: now)
        }
        let query = request.queryItems
        if query.contains(where: { $0.0 == "X-Amz-Signature" }) {
            return try verifyPresigned(query, request, now: now)
        }
        throw .missing
    }

    private func verifyHeader(_ auth: String, _ request: SignedRequest, now: Int64) throws(SigV4Failure) -> Verified {
        guard auth.hasPrefix("AWS4-HMAC-SHA256 ") else { throw .malformed("the Authorization header is not AWS4-HMAC-SHA256") }
        var fields: [String: String] = [:]
        for part in auth.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let kv = part.drop { $0 == " " || $0 == "\t" }.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw .malformed("the Authorization header needs Credential, SignedHeaders and Signature")
        }
        guard let date = request.header("x-amz-date") else { throw .malformed("the request has no X-Amz-Date header") }
        let payload = request.header("x-amz-content-sha256") ?? Self.hex(SHA256.hash(data: request.body))
        let verified = try checkScope(credential, date: date, now: now, expires: nil)
        let canonical = try canonicalRequest(request, signedHeaders: signed, payloadHash: payload, excludingSignatureParameter: false)
        try checkSignature(signature, canonical: canonical, date: date, scope: credential)
        return verified
    }

    private func verifyPresigned(_ query: [(String, String)], _ request: SignedRequest, now: Int64) throws(SigV4Failure) -> Verified {
        func param(_ k: String) -> String? { query.first { $0.0 == k }?.1 }
        guard param("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" else { throw .malformed("X-Amz-Algorithm must be AWS4-HMAC-SHA256") }
        guard let credential = param("X-Amz-Credential"), let date = param("X-Amz-Date"),
              let signed = param("X-Amz-SignedHeaders"), let signature = param("X-Amz-Signature") else {
            throw .malformed("a presigned request needs X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature")
        }
        guard let expires = param("X-Amz-Expires").flatMap({ Int64($0) }), (1...604_800).contains(expires) else {
            throw .malformed("X-Amz-Expires must be 1 to 604800 seconds")
        }
        let verified = try checkScope(credential, date: date, now: now, expires: expires)
        // The payload line: the header when sent; else the body's hash, as botocore's (and the
        // SDKs') presigned URLs for services other than S3 sign it (the empty body's hash for a
        // GET), or UNSIGNED-PAYLOAD, S3's presigned form.
        let payloads = request.header("x-amz-content-sha256").map { [$0] } ?? [Self.hex(SHA256.hash(data: request.body)), "UNSIGNED-PAYLOAD"]
        for (i, payload) in payloads.enumerated() {
            let canonical = try canonicalRequest(request, signedHeaders: signed, payloadHash: payload, excludingSignatureParameter: true)
            do {
                try checkSignature(signature, canonical: canonical, date: date, scope: credential)
                return verified
            } catch where i + 1 < payloads.count {
                continue
            }
        }
        throw .mismatch
    }

    /// `AKID/20150830/us-east-1/iam/aws4_request`, checked against the key, the request's
    /// date, this region and the services served; the time against the clock.
    private func checkScope(_ credential: String, date: String, now: Int64, expires: Int64?) throws(SigV4Failure) -> Verified {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request" else { throw .malformed("Credential must be KEY/DATE/REGION/SERVICE/aws4_request") }
        guard Self.constantTimeEqual(Array(parts[0].utf8), Array(accessKeyId.utf8)) else { throw .unknownKey(parts[0]) }
        guard let signedAt = Self.parseAmzDate(date) else { throw .malformed("X-Amz-Date '\(date)' is not yyyyMMddTHHmmssZ") }
        guard parts[1] == String(date.prefix(8)) else { throw .badScope("the credential's date \(parts[1]) is not the request's date \(date.prefix(8))") }
        guard parts[2] == region else { throw .badScope("Credential should be scoped to a valid region, not '\(parts[2])'; this server's region is \(region)") }
        guard services.contains(parts[3]) else { throw .badScope("Credential should be scoped to a valid service, not '\(parts[3])'") }
        if let expires {
            if now > signedAt + expires { throw .expired("the presigned request expired at \(Self.amzDate(signedAt + expires))") }
            if signedAt > now + Self.maxSkew { throw .expired("the signature's date \(date) is more than 15 minutes in the future") }
        } else if abs(now - signedAt) > Self.maxSkew {
            throw .expired("Signature expired: \(date) is not within 15 minutes of the server's time \(Self.amzDate(now))")
        }
        return Verified(service: parts[3], accessKeyId: parts[0])
    }

    private func checkSignature(_ signature: String, canonical: String, date: String, scope credential: String) throws(SigV4Failure) {
        let scope = credential.split(separator: "/").dropFirst().joined(separator: "/")
        let stringToSign = "AWS4-HMAC-SHA256\n\(date)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let key = signingKeys.key(secret: secretAccessKey, date: String(date.prefix(8)), region: region, service: String(credential.split(separator: "/")[3]))
        let expected = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: key)))
        guard Self.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else { throw .mismatch }
    }

    /// The canonical request of SigV4: method, URI, query, headers, signed header names, payload hash.
    func canonicalRequest(_ r: SignedRequest, signedHeaders: String, payloadHash: String,
                          excludingSignatureParameter: Bool) throws(SigV4Failure) -> String {
        let names = signedHeaders.split(separator: ";").map { $0.lowercased() }
        guard !names.isEmpty, names.contains("host") else { throw .malformed("SignedHeaders must include host") }
        var lines: [String] = []
        for name in names {
            let values = r.headers.filter { Self.equalIgnoringASCIICase($0.name, name) }.map { Self.trimAll($0.value) }
            guard !values.isEmpty else { throw .malformed("the signed header '\(name)' is missing") }
            lines.append("\(name):\(values.joined(separator: ","))")
        }
        var pairs: [(String, String)] = []
        for (k, v) in r.queryItems where !(excludingSignatureParameter && k == "X-Amz-Signature") {
            pairs.append((Self.percentEncode(k), Self.percentEncode(v)))
        }
        pairs.sort { a, b in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        let query = pairs.map { p in p.0 + "=" + p.1 }.joined(separator: "&")
        let headerBlock: String = lines.joined(separator: "\n") + "\n"
        let parts: [String] = [r.method.uppercased(), Self.canonicalURI(r.rawPath), query, headerBlock, names.joined(separator: ";"), payloadHash]
        return parts.joined(separator: "\n")
    }

    // MARK: pieces

    /// The path with dot segments removed, percent-encoded once more (every service but S3
    /// signs the already-encoded path encoded again).
    static func canonicalURI(_ rawPath: String) -> String {
        var out: [Substring] = []
        for seg in rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            if seg == "." { continue }
            if seg == ".." { _ = out.popLast(); continue }
            out.append(seg)
        }
        let path = "/" + out.joined(separator: "/")
        return percentEncode(path, keepSlash: true)
    }

    static func signature(secret: String, date: String, region: String, service: String, stringToSign: String) -> String {
        hex(hmac(signingKey(secret: secret, date: date, region: region, service: service), stringToSign))
    }

    static func hmac(_ key: [UInt8], _ msg: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(msg.utf8), using: SymmetricKey(data: key)))
    }

    /// kSigning: HMAC over the date, region, service and "aws4_request" from "AWS4" + secret.
    static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        hmac(hmac(hmac(hmac(Array("AWS4\(secret)".utf8), date), region), service), "aws4_request")
    }

    /// The signing keys derived so far (a few: one per day and service), so a request costs one
    /// HMAC instead of five.
    final class SigningKeys: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String: [UInt8]] = [:]

        func key(secret: String, date: String, region: String, service: String) -> [UInt8] {
            let name = secret + "\n" + date + "/" + region + "/" + service
            lock.lock()
            if let k = keys[name] { lock.unlock(); return k }
            lock.unlock()
            let k = SigV4.signingKey(secret: secret, date: date, region: region, service: service)
            lock.lock()
            if keys.count > 64 { keys.removeAll() }
            keys[name] = k
            lock.unlock()
            return k
        }
    }

    /// ASCII letters compared without case (header names), nothing allocated.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                let lx = x >= 65 && x <= 90 ? x + 32 : x, ly = y >= 65 && y <= 90 ? y + 32 : y
                if lx != ly { return false }
            default: return false
            }
        }
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ digest: SHA256.Digest) -> String { hex(Array(digest)) }

    /// Compares without stopping at the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }

    /// A header value as signed: leading and trailing blanks dropped, runs of blanks made one
    /// space (the case is kept).
    static func trimAll(_ v: String) -> String {
        v.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX (upper-case hex).
    static func percentEncode(_ s: String, keepSlash: Bool = false) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `%XX` sequences decoded (a `+` stays a `+`, as SigV4 signs it).
    static func percentDecode(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        let input = Array(s.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "%"), i + 2 < input.count, let hi = hexValue(input[i + 1]), let lo = hexValue(input[i + 2]) {
                bytes.append(hi << 4 | lo)
                i += 3
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `20150830T123600Z` → epoch seconds.
    static func parseAmzDate(_ s: String) -> Int64? { Timestamp.parseBasic(s).map { $0 / 1000 } }

    static func amzDate(_ t: Int64) -> String { Timestamp.basic(t * 1000) }
}
