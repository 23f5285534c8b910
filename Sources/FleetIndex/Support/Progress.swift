// FleetIndex: the text of the progress line long commands (import-things, ingest-events)
// show on a terminal: how much is done, how fast, and how long is left when the input's size
// is known. Pure: the caller passes the clock.

/// One progress line.
public enum ProgressLine {
    /// `ingest-events: 120,000 lines, 24,000 lines/s, 35% of 34.5 MB, about 9 s left`
    /// (without the size part when `total` is unknown, without the rate before any time passed).
    public static func format(_ command: String, done: Int, unit: String = "lines", bytes: Int64, total: Int64?, elapsed: Double) -> String {
        var parts = ["\(command): \(grouped(Int64(done))) \(unit)"]
        if elapsed > 0 {
            parts.append("\(grouped(Int64(min(1e15, Double(done) / elapsed).rounded()))) \(unit)/s")
        }
        if let total, total > 0 {
            let fraction = min(1, max(0, Double(bytes) / Double(total)))
            parts.append("\(Int((fraction * 100).rounded(.down)))% of \(size(total))")
            if elapsed > 0, fraction > 0, fraction < 1 {
                let left = elapsed * (1 - fraction) / fraction
                parts.append(left < 360_000 ? "about \(duration(left)) left" : "more than 100 h left")
            }
        }
        return parts.joined(separator: ", ")
    }

    /// `1234567` → `1,234,567`.
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// Bytes as `512 B`, `12.3 kB`, `34.5 MB`, `1.2 GB` (powers of 1000).
    public static func size(_ b: Int64) -> String {
        if b < 1000 { return "\(b) B" }
        let units = ["kB", "MB", "GB", "TB"]
        var v = Double(b) / 1000
        var u = 0
        while v >= 999.95 && u < units.count - 1 { v /= 1000; u += 1 }
        return "\(oneDecimal(v)) \(units[u])"
    }

    /// Seconds as `9 s`, `2 min 05 s`, `1 h 03 min`.
    public static func duration(_ seconds: Double) -> String {
        let s = seconds.isFinite ? Int(min(max(0, seconds), 1e9).rounded(.up)) : 0
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(twoDigits(s % 60)) s" }
        return "\(s / 3600) h \(twoDigits(s % 3600 / 60)) min"
    }

    static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
