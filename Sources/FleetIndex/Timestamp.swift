// FleetIndex: instants as epoch milliseconds, parsed from ISO 8601 (offsets allowed) or
// epoch ms, and printed the way AWS CLI v2 prints timestamps.

/// Parsing and printing of the command line's times.
public enum Timestamp {
    /// Parses `2026-11-28T10:05:00Z`, `2026-11-28T10:05:00.250+02:00`, `2026-11-28` or epoch ms.
    public static func parse(_ s: String) -> Int64? {
        let t = s.trimmingSpaces
        if !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }), let ms = Int64(t), !t.contains("-") || t.hasPrefix("-") {
            return ms
        }
        let b = Array(t.utf8)
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = num(4), expect("-"), let month = num(2), expect("-"), let day = num(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var h = 0, m = 0, sec = 0, frac: Int64 = 0, offset = 0
        if i < b.count {
            guard expect("T") || expect(" ") || expect("t") else { return nil }
            guard let hh = num(2), expect(":"), let mm = num(2) else { return nil }
            h = hh; m = mm
            if expect(":") { guard let ss = num(2) else { return nil }; sec = ss }
            if expect(".") || expect(",") {
                var digits = 0
                var f: Int64 = 0
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    if digits < 3 { f = f * 10 + Int64(b[i] - 48) }
                    digits += 1; i += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<3 where digits < 3 { f *= 10 }
                frac = f
            }
            if expect("Z") || expect("z") {
            } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "+") ? 1 : -1
                i += 1
                guard let oh = num(2) else { return nil }
                _ = expect(":")
                let om = num(2) ?? 0
                offset = sign * (oh * 60 + om)
            }
            guard i == b.count, h < 24, m < 60, sec < 61 else { return nil }
        }
        let days = daysFromCivil(year, month, day)
        let secs = Int64(days) * 86400 + Int64(h * 3600 + m * 60 + sec) - Int64(offset * 60)
        return secs * 1000 + frac
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
