// FleetIndex: instants as epoch milliseconds, parsed from ISO 8601 (offsets allowed) or an
// epoch number (seconds, as the AWS CLI reads one; milliseconds from 13 digits on), and
// printed the way AWS CLI v2 prints timestamps. Every instant lies in the years 1970 to 9999.

/// Parsing and printing of the command line's times.
public enum Timestamp {
    /// The first instant fleetdex takes: 1970-01-01T00:00:00Z.
    public static let earliest: Int64 = 0
    /// The last instant fleetdex takes: 9999-12-31T23:59:59.999Z.
    public static let latest: Int64 = 253_402_300_799_999
    /// Every instant fleetdex takes, from the command line, a request or a lifecycle event.
    public static let range: ClosedRange<Int64> = earliest...latest
    /// An epoch number at or above this is milliseconds (13 digits or more), below it seconds.
    public static let millisecondThreshold: Int64 = 1_000_000_000_000

    /// Why a text is not a time; `reason` reads after "is not a time: ".
    public struct ParseError: Error, Equatable, CustomStringConvertible, Sendable {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The instant of `s`, or nil when it is not a time (`read` says why).
    public static func parse(_ s: String) -> Int64? { try? read(s) }

    /// Reads `2026-11-28T10:05:00Z`, `2026-11-28T10:05:00.250+02:00` (0 to 9 fractional
    /// digits; `Z`, `+hh:mm`, `+hhmm` or `+hh`; no zone is UTC), `2026-11-28` (midnight UTC),
    /// or an epoch number: seconds (`1796112600`, `1796112600.25`), milliseconds when its
    /// integer part has 13 digits or more (`1796112600250`). Digits below the millisecond are
    /// dropped. Impossible dates and times (February 31, 23:59:60, hour 24, offsets beyond
    /// ±18:00) and instants outside 1970-01-01 … 9999-12-31 are errors, never normalised.
    public static func read(_ text: String) throws(ParseError) -> Int64 {
        let b = Array(text.trimmingSpaces.utf8)
        guard !b.isEmpty else { throw ParseError("it is empty") }
        let ms: Int64
        if b.dropFirst(b.first == minus ? 1 : 0).allSatisfy({ isDigit($0) || $0 == dot }) {
            ms = try number(b)
        } else {
            ms = try iso(b)
        }
        guard ms >= earliest && ms <= latest else { throw outOfRange }
        return ms
    }

    /// An epoch number of a JSON document (a structured flag's timestamp member): seconds,
    /// milliseconds from 13 digits on, as on the command line; nil when it is not finite or
    /// lies outside the range (never a trap).
    public static func epoch(_ d: Double) -> Int64? {
        guard d.isFinite, d >= 0 else { return nil }
        let ms = (d >= Double(millisecondThreshold) ? d : d * 1000).rounded()
        guard ms <= Double(latest) else { return nil }
        return Int64(ms)
    }

    static let dot = UInt8(ascii: "."), minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), colon = UInt8(ascii: ":")
    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static let outOfRange = ParseError("it lies outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z")

    /// Epoch seconds, or milliseconds from 13 integer digits on; at most 9 fractional digits.
    static func number(_ b: [UInt8]) throws(ParseError) -> Int64 {
        if b.first == minus {
            guard try number(Array(b.dropFirst())) == 0 else { throw outOfRange }
            return 0
        }
        let parts = b.split(separator: dot, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts[0].allSatisfy(isDigit) else { throw syntax(b) }
        let fraction = parts.count == 2 ? Array(parts[1]) : []
        guard parts.count == 1 || (!fraction.isEmpty && fraction.allSatisfy(isDigit)) else {
            throw ParseError("a number needs digits after its '.'")
        }
        guard fraction.count <= 9 else { throw ParseError("at most 9 fractional digits") }
        let significant = parts[0].drop(while: { $0 == 48 })
        // 10^16 ms is in the year 318857: beyond 9999, and short of Int64 overflow.
        guard significant.count <= 16 else { throw outOfRange }
        var value: Int64 = 0
        for c in significant { value = value * 10 + Int64(c - 48) }
        if value >= millisecondThreshold { return value }
        var millis: Int64 = 0
        for k in 0..<3 { millis = millis * 10 + (k < fraction.count ? Int64(fraction[k] - 48) : 0) }
        return value * 1000 + millis
    }

    static func syntax(_ b: [UInt8]) -> ParseError {
        ParseError("expected ISO 8601 (2026-11-28T10:05:00Z, 2026-11-28T10:05:00.250+02:00, 2026-11-28) or epoch seconds")
    }

    static func iso(_ b: [UInt8]) throws(ParseError) -> Int64 {
        var i = 0
        func digits(_ n: Int, _ what: String) throws(ParseError) -> Int {
            guard i + n <= b.count, b[i..<(i + n)].allSatisfy(isDigit) else {
                throw ParseError("expected \(n) digits of \(what) at character \(i + 1)")
            }
            var v = 0
            for k in 0..<n { v = v * 10 + Int(b[i + k] - 48) }
            i += n
            return v
        }
        func take(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        func expect(_ c: UInt8, _ after: String) throws(ParseError) {
            guard take(c) else { throw ParseError("expected '\(Character(Unicode.Scalar(c)))' after the \(after) at character \(i + 1)") }
        }
        guard b.count >= 4, b[0..<4].allSatisfy(isDigit) else { throw syntax(b) }
        let year = try digits(4, "the year")
        guard !(i < b.count && isDigit(b[i])) else { throw ParseError("a year has 4 digits (1970 to 9999)") }
        try expect(minus, "year")
        let month = try digits(2, "the month")
        try expect(minus, "month")
        let day = try digits(2, "the day")
        guard (1...12).contains(month) else { throw ParseError("month \(pad(month, 2)) does not exist") }
        let length = daysIn(year, month)
        guard (1...length).contains(day) else {
            throw ParseError(day == 0 ? "day 00 does not exist" : "\(pad(year, 4))-\(pad(month, 2)) has \(length) days")
        }
        var h = 0, m = 0, sec = 0, millis: Int64 = 0, offset = 0
        if i < b.count {
            guard take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(UInt8(ascii: " ")) else {
                throw ParseError("expected 'T' between the date and the time at character \(i + 1)")
            }
            h = try digits(2, "the hour")
            try expect(colon, "hour")
            m = try digits(2, "the minutes")
            if take(colon) { sec = try digits(2, "the seconds") }
            guard h < 24 else { throw ParseError("hour \(pad(h, 2)) does not exist (00 to 23)") }
            guard m < 60 else { throw ParseError("minute \(pad(m, 2)) does not exist (00 to 59)") }
            guard sec < 60 else { throw ParseError("second \(pad(sec, 2)) does not exist (00 to 59; leap seconds are not taken)") }
            if take(dot) || take(UInt8(ascii: ",")) {
                let start = i
                while i < b.count, isDigit(b[i]) { i += 1 }
                let n = i - start
                guard n > 0 else { throw ParseError("expected digits after the decimal point at character \(i + 1)") }
                guard n <= 9 else { throw ParseError("at most 9 fractional digits") }
                for k in 0..<3 { millis = millis * 10 + (k < n ? Int64(b[start + k] - 48) : 0) }
            }
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
            } else if i < b.count, b[i] == plus || b[i] == minus {
                let sign = b[i] == plus ? 1 : -1
                i += 1
                let oh = try digits(2, "the offset's hours")
                var om = 0
                if take(colon) {
                    om = try digits(2, "the offset's minutes")
                } else if i < b.count {
                    om = try digits(2, "the offset's minutes")
                }
                guard om < 60 else { throw ParseError("offset minutes \(pad(om, 2)) do not exist (00 to 59)") }
                guard oh * 60 + om <= 18 * 60 else { throw ParseError("offsets run from -18:00 to +18:00") }
                offset = sign * (oh * 60 + om)
            }
            guard i == b.count else { throw ParseError("unexpected '\(String(decoding: b[i...], as: UTF8.self))' at character \(i + 1)") }
        }
        let days = Int64(daysFromCivil(year, month, day))
        let secs = days * 86400 + Int64(h * 3600 + m * 60 + sec) - Int64(offset * 60)
        return secs * 1000 + millis
    }

    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `2026-11-28T10:05:00+00:00` (with `.mmm000` when there are milliseconds), as AWS CLI v2 prints.
    public static func iso(_ ms: Int64) -> String {
        let (days, rem) = floorDiv(ms, 86_400_000)
        let (y, mo, d) = civilFromDays(Int(days))
        let secs = rem / 1000, millis = rem % 1000
        let h = secs / 3600, mi = (secs % 3600) / 60, s = secs % 60
        var out = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(Int(h), 2)):\(pad(Int(mi), 2)):\(pad(Int(s), 2))"
        if millis != 0 { out += "." + pad(Int(millis), 3) + "000" }
        return out + "+00:00"
    }

    /// `2026-11-28T10:05:00Z`, for messages and envelopes.
    public static func isoZ(_ ms: Int64) -> String {
        let (days, rem) = floorDiv(ms, 86_400_000)
        let (y, mo, d) = civilFromDays(Int(days))
        let secs = rem / 1000, millis = rem % 1000
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(Int(secs / 3600), 2)):\(pad(Int((secs % 3600) / 60), 2)):\(pad(Int(secs % 60), 2)).\(pad(Int(millis), 3))Z"
    }

    /// `20261128T100500Z` (ISO 8601 basic, seconds; SigV4's X-Amz-Date).
    public static func basic(_ ms: Int64) -> String {
        let (days, rem) = floorDiv(ms, 86_400_000)
        let (y, mo, d) = civilFromDays(Int(days))
        let secs = Int(rem / 1000)
        return "\(pad(y, 4))\(pad(mo, 2))\(pad(d, 2))T\(pad(secs / 3600, 2))\(pad(secs / 60 % 60, 2))\(pad(secs % 60, 2))Z"
    }

    /// `20261128T100500Z` → epoch milliseconds; nil for anything else.
    public static func parseBasic(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 16, u[8] == UInt8(ascii: "T"), u[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard u[i] >= 48 && u[i] <= 57 else { return nil }; v = v * 10 + Int(u[i] - 48) }
            return v
        }
        guard let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8), let h = num(9..<11), let mi = num(11..<13), let se = num(13..<15),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 60 else { return nil }
        return (Int64(daysFromCivil(y, mo, d)) * 86_400 + Int64(h * 3600 + mi * 60 + se)) * 1000
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b, r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }

    // Howard Hinnant's civil-date algorithms.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
