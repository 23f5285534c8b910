// FleetServer console: who is logged in. A session is a random 256-bit token kept in this
// process's memory (the cookie carries only the token, never a key); each has its own
// CSRF token and an expiry on the server's injected clock. Logging out forgets it; a
// restart of the server forgets them all.
import Crypto
import Foundation
import Synchronization

/// The console's sessions, in memory.
public final class ConsoleSessions: Sendable {
    public struct Session: Sendable, Equatable {
        public var token: String
        public var csrf: String
        public var expires: Int64
    }

    /// Twelve hours.
    public static let lifetime: Int64 = 12 * 3600 * 1000
    /// Past this many live sessions the oldest go first (a login flood cannot exhaust memory).
    static let maximum = 10_000

    private let sessions = Mutex<[String: Session]>([:])

    public init() {}

    /// 32 random bytes, hex.
    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        out.reserveCapacity(64)
        for _ in 0..<4 {
            let v = rng.next() as UInt64
            let hex = String(v, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// A new session from `now`.
    public func create(now: Int64) -> Session {
        let s = Session(token: Self.randomToken(), csrf: Self.randomToken(), expires: now + Self.lifetime)
        sessions.withLock { all in
            all = all.filter { $0.value.expires > now }
            if all.count >= Self.maximum, let oldest = all.min(by: { $0.value.expires < $1.value.expires }) { all[oldest.key] = nil }
            all[s.token] = s
        }
        return s
    }

    /// The live session a cookie's token names.
    public func session(_ token: String?, now: Int64) -> Session? {
        guard let token, token.utf8.count == 64 else { return nil }
        return sessions.withLock { all in
            guard let s = all[token] else { return nil }
            guard s.expires > now else { all[token] = nil; return nil }
            return s
        }
    }

    public func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// Equal strings, in time that depends on their lengths only (SHA-256 digests compared
    /// with the constant-time `==` of swift-crypto).
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        SHA256.hash(data: Array(a.utf8)) == SHA256.hash(data: Array(b.utf8))
    }
}
