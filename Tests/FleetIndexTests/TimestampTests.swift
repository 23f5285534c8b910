// Times as the command line takes them: ISO 8601 (0 to 9 fractional digits, Z or offsets,
// date only) and epoch numbers (seconds; milliseconds from 13 digits on), impossible dates
// and out-of-range instants rejected; and every time fleetdex prints reads back the same.
import FleetIndex
import FleetTestSupport
import Foundation
import Testing

@Suite struct TimestampTests {
    /// 2026-11-28T10:00:00Z.
    static let t: Int64 = 1_795_860_000_000

    static let valid: [(String, Int64)] = [
        ("2026-11-28T10:00:00Z", t),
        ("2026-11-28T10:00:00z", t),
        ("2026-11-28t10:00:00Z", t),
        ("2026-11-28 10:00:00Z", t),
        ("2026-11-28T10:00Z", t),
        ("2026-11-28T10:00:00", t),
        ("  2026-11-28T10:00:00Z\n", t),
        ("2026-11-28T10:00:00.1Z", t + 100),
        ("2026-11-28T10:00:00.12Z", t + 120),
        ("2026-11-28T10:00:00.123Z", t + 123),
        ("2026-11-28T10:00:00.1234Z", t + 123),
        ("2026-11-28T10:00:00.123456Z", t + 123),
        ("2026-11-28T10:00:00.123456789Z", t + 123),
        ("2026-11-28T10:00:00,5Z", t + 500),
        ("2026-11-28T10:00:00.123000+00:00", t + 123),
        ("2026-11-28T12:00:00+02:00", t),
        ("2026-11-28T12:00:00+0200", t),
        ("2026-11-28T12:00:00+02", t),
        ("2026-11-28T05:30:00-04:30", t),
        ("2026-11-28T10:00:00-00:00", t),
        ("2026-11-29T04:00:00+18:00", t),
        ("2026-11-27T16:00:00-18:00", t),
        ("2026-11-28", 1_795_824_000_000),
        ("2024-02-29", 1_709_164_800_000),
        ("2000-02-29T12:00:00Z", 951_825_600_000),
        ("1970-01-01T00:00:00Z", 0),
        ("9999-12-31T23:59:59.999999999Z", 253_402_300_799_999),
        ("1795860000", t),
        ("1795860000.5", t + 500),
        ("1795860000.123456", t + 123),
        ("0001795860000", t),
        ("1795860000000", t),
        ("1795860000123", t + 123),
        ("1795860000123.9", t + 123),
        ("0", 0),
        ("253402300799", 253_402_300_799_000),
        ("253402300799999", 253_402_300_799_999),
    ]

    static let invalid: [(String, String)] = [
        ("2026-02-31T10:00:00Z", "2026-02 has 28 days"),
        ("2026-02-29", "2026-02 has 28 days"),
        ("1900-02-29", "1900-02 has 28 days"),
        ("2026-04-31", "2026-04 has 30 days"),
        ("2026-13-01", "month 13 does not exist"),
        ("2026-00-10", "month 00 does not exist"),
        ("2026-11-00", "day 00 does not exist"),
        ("2026-11-28T23:59:60Z", "second 60 does not exist"),
        ("2026-11-28T24:00:00Z", "hour 24 does not exist"),
        ("2026-11-28T10:60:00Z", "minute 60 does not exist"),
        ("2026-11-28T10:00:00+99:99", "offset minutes 99 do not exist"),
        ("2026-11-28T10:00:00+24:00", "offsets run from -18:00 to +18:00"),
        ("2026-11-28T10:00:00+18:01", "offsets run from -18:00 to +18:00"),
        ("2026-11-28T10:00:00-05:60", "offset minutes 60 do not exist"),
        ("2026-11-28T10:00:00+5", "expected 2 digits of the offset's hours"),
        ("2026-11-28T10:00:00.1234567891Z", "at most 9 fractional digits"),
        ("2026-11-28T10:00:00.Z", "expected digits after the decimal point"),
        ("2026-11-28T10:00:00Zjunk", "unexpected 'junk'"),
        ("2026-11-28T10:00:00 Z", "unexpected ' Z'"),
        ("2026-11-28T10", "expected ':' after the hour"),
        ("2026-11-28X10:00", "expected 'T' between the date and the time"),
        ("2026-1-28", "expected 2 digits of the month"),
        ("10000-01-01", "a year has 4 digits"),
        ("", "it is empty"),
        ("yesterday", "expected ISO 8601"),
        ("1.2.3", "expected ISO 8601"),
        ("1e9", "expected ISO 8601"),
        ("1795860000.", "a number needs digits after its '.'"),
        ("1795860000.1234567890", "at most 9 fractional digits"),
        ("1969-12-31T23:59:59Z", "outside 1970-01-01"),
        ("1970-01-01T00:00:00+00:01", "outside 1970-01-01"),
        ("9999-12-31T23:59:59-00:01", "outside 1970-01-01"),
        ("-1", "outside 1970-01-01"),
        ("253402300800", "outside 1970-01-01"),
        ("253402300800000", "outside 1970-01-01"),
        ("1796000000000000", "outside 1970-01-01"),
        ("9223372036854775807", "outside 1970-01-01"),
        ("9223372036854775808", "outside 1970-01-01"),
        ("99999999999999999999999999999999", "outside 1970-01-01"),
    ]

    @Test(arguments: valid)
    func reads(_ text: String, _ ms: Int64) throws {
        #expect(try Timestamp.read(text) == ms)
        #expect(Timestamp.parse(text) == ms)
    }

    @Test(arguments: invalid)
    func rejects(_ text: String, _ reason: String) {
        #expect(Timestamp.parse(text) == nil)
        #expect(throws: Timestamp.ParseError.self) { try Timestamp.read(text) }
        do { _ = try Timestamp.read(text) } catch { #expect(error.reason.contains(reason), "\(text): \(error.reason)") }
    }

    /// JSON epoch numbers (a structured flag's timestamps) follow the same rules and never trap.
    @Test(arguments: [
        (1_795_860_000.0, Optional(t)), (1_795_860_000.123, t + 123), (1_795_860_000_000.0, t), (0.0, 0),
        (253_402_300_799.999, 253_402_300_799_999), (253_402_300_800.0, nil), (1e300, nil), (-1.0, nil),
        (Double.nan, nil), (Double.infinity, nil), (9.3e18, nil),
    ])
    func epochNumbers(_ d: Double, _ ms: Int64?) {
        #expect(Timestamp.epoch(d) == ms)
    }

    @Test func tableIsLargeEnough() {
        #expect(Self.valid.count + Self.invalid.count >= 40)
    }

    /// Every format fleetdex prints (the AWS CLI v2 `+00:00` form, the SNS envelope's `Z`
    /// form, the demo's `Z` form without milliseconds, epoch numbers) reads back as the same instant.
    @Test func printedTimesReadBack() throws {
        var rng = SplitMix64(seed: 0x7105_2026)
        for k in 0..<5000 {
            let ms: Int64 = switch k {
            case 0: Timestamp.earliest
            case 1: Timestamp.latest
            case 2..<1000: Int64(rng.next() % 4_102_444_800_000)  // 1970 … 2100, where times live
            default: Int64(rng.next() % UInt64(Timestamp.latest + 1))
            }
            #expect(Timestamp.parse(Timestamp.iso(ms)) == ms, "\(Timestamp.iso(ms))")
            #expect(Timestamp.parse(Timestamp.isoZ(ms)) == ms, "\(Timestamp.isoZ(ms))")
            let seconds = ms - ms % 1000
            #expect(Timestamp.parse(Timestamp.isoZ(seconds).replacingOccurrences(of: ".000Z", with: "Z")) == seconds)
            // Epoch numbers fleetdex prints: milliseconds (SentTimestamp, connectivity.timestamp)
            // from 2001-09-09 on, seconds (CreatedTimestamp, a shadow's timestamp) always.
            #expect(Timestamp.parse(String(ms)) == (ms >= Timestamp.millisecondThreshold ? ms : ms * 1000 > Timestamp.latest ? nil : ms * 1000))
            #expect(Timestamp.parse(String(ms / 1000)) == ms / 1000 * 1000)
        }
    }

    /// Random dates, times, fractions and offsets agree with Foundation's Gregorian calendar,
    /// both on which dates exist and on the instant.
    @Test func agreesWithFoundation() throws {
        var rng = SplitMix64(seed: 42)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        var existing = 0
        for _ in 0..<3000 {
            let y = 1971 + Int(rng.next() % 8028), mo = 1 + Int(rng.next() % 12), d = 1 + Int(rng.next() % 31)
            let h = Int(rng.next() % 24), mi = Int(rng.next() % 60), s = Int(rng.next() % 60)
            let fd = Int(rng.next() % 10), fraction = (0..<fd).map { _ in String(rng.next() % 10) }.joined()
            let off = Int(rng.next() % (36 * 60 + 1)) - 18 * 60
            let zone = off == 0 && rng.next() % 2 == 0 ? "Z" : (off < 0 ? "-" : "+") + pad(abs(off) / 60, 2) + ":" + pad(abs(off) % 60, 2)
            let text = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))" + (fd > 0 ? "." + fraction : "") + zone
            var local = calendar
            local.timeZone = TimeZone(secondsFromGMT: off * 60)!
            let parts = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
            let date = local.date(from: parts)
            let back = date.map { local.dateComponents([.year, .month, .day, .hour, .minute, .second], from: $0) }
            guard let date, back == parts else {
                #expect(Timestamp.parse(text) == nil, "\(text) does not exist")
                continue
            }
            existing += 1
            let millis = fd == 0 ? 0 : Int64((fraction + "00").prefix(3))!
            #expect(Timestamp.parse(text) == Int64(date.timeIntervalSince1970) * 1000 + millis, "\(text)")
        }
        #expect(existing > 2500)
    }
}
