// Fuzz regressions of fleetdex's readers (scripts/fuzz.sh): the JSON reader's crashing
// inputs, the crashes found in parsers other owners are fixing (disabled until they do),
// and the query limits proved against SQLite itself: the largest and deepest queries the
// language accepts run on a real database, the next ones fail before any SQL is built.
import FleetIndex
import FleetQuery
import Foundation
import FleetTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bytes from hex.
private func bytes(_ hex: String) -> [UInt8] {
    let d = Array(hex.utf8).map { $0 <= 57 ? $0 - 48 : ($0 | 0x20) - 87 }
    return stride(from: 0, to: d.count - 1, by: 2).map { d[$0] << 4 | d[$0 + 1] }
}

/// Inputs that trapped the JSON reader (a high surrogate escape followed by a `\u` escape
/// that is not a low surrogate: `low - 0xDC00` underflowed), by their file under Fuzz/crashes/json/.
private let jsonFuzzInputs: [(String, String)] = [
    ("26d4a73fbb44", """
        225c5c5dffff66665c75646330306666664f66ffffffffffffffffffff665c75643830305c7566666630306666664f66\
        ffffffffffffffffffff665c75643830305c7531353932a48a9bbe30305c74725b66614362657230305d9bbe64373030\
        5c7472626572b05b3636643730305c7472626572b05b363672725c2f30626530305c7472626572b05b3636643730305c\
        7472626572b05b363672725c2f3066666666666666660fd800006666ffffffffffffffffff66666666645c0a
        """),
    ("5b1e45c96746", """
        7b2226636c69653636365b363636363636363666616c73658a9bbe505050505050505050505050505050505050505050\
        505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050\
        2d302e35652b3130303036365c75643830305c7564383030626572223a307d
        """),
    ("6bbd3abc6231", """
        7b22636c692e65363636363636363636363636363636363635393a34315c754438363636363636364036363636363636\
        36363636363636363636363636363633313835a48a9bbe303036363636365c75643830305c7564383030363636363636\
        36363636363636363636363331343636303836303533313838325c7544386d626572223a307d
        """),
    ("9728a05a19d7", """
        7b22636c69656374223a66616c73652c22646e223a22434f4e4e636c695c75643830305c75643630306f000000000000\
        00000000000008000000697363424f524544227d
        """),
    ("c833acb69245", """
        7b22636c695c75643830305c756438353657000000223a2222636c69656e744964223a61222c7b0922636c69b1b125b1\
        b1b1b1b12270b1b1b1b1b1227074b16f6963223ab1
        """),]

/// Inputs that trapped Timestamp.parse, in hex, from Fuzz/crashes/timestamp/.
private let timestampFuzzInputs: [String] = [
    "323032362d31312d30325438383a38383a30342c31303236",
    "323032352d31312d32385439353a30302e303239353a30302b3531",
    "323032362d31312d32385431303a30353a30302e303235322c2b3a3030",
    "323032362d31312d32387438363a30302e323031323032362d31312d32387438363a30302e323031",
    "323032362d31312d32387431303a30353a30302c30333032350a200d",
    "323032362d31312d32385431303a30302e323032362d31312d32385431",
    "2020323032362d31312d32385431303a30312c35353535353535353535353535353535352054",
    "323032362d31312d32385431303a30353a30302e30303030322d362d32303030",
    "323032362d31312d32385431303a30353a30302e30303236",
    "323032362d31312d32387432303a30302e32303230",
    "0d323032362d31312d32385431303a30302e32323032362d31312d32385431303a30",
    "323032362d31312d32385431303a30353a30302e32303030",
    "323032362d31312d32385433303a30312e35323335",
    "323032362d31312d32385431303a30352c333230352c33322a3120352a3120352c31323320",
    "303232362d31312d32385431303a30302e303032322d30303230",
    "20323032362d31312d30315430303a30302c32303632522030362d363235323232323632",
    "20323032362d31312d32385431303a30312c303031312d323854ffffffffffffffff202b3028",
    "323032362d31312d32385431303a30312c353233323032362d31312d323854318f",
    "323032362d31312d32387432303a30302e323032362d31313230",
    "303030332d31312d32387431303a30302e30323032362d31303030303030",
    "323032362d31312d32385431303a30352c30323030",
    "323032392d31312d32387437303a30302c313131382d32005300657175656e63652c177a",
    "323032362d31312d32387431303a30353a30302c353032362d31312d32387431303a30353a30302c357a7a7a7a7a7a",
    "323032362d31312d32387432303a30302e363538303530db30",
    "323032362d31312d32385431303a30353a30302e3032303030",
    "323032332d31312d32385431353a31352c303434343434343434343434343432332d31312d323854315b353a31302c0c0c",
    "323032362d31312d32385431303a30353a30302e32323235313532",
    "323032372d31312d32385431313a30352e3038303832362d283a323530",
    "323032362d31312d32387432303a30302e323032362d31312d32ff2e",
    "323032362d31312d32385431303a30353a31352e32353032362d31312d",
    "323032362d31312d32385431303a30353a30322e30343035322d31312d32383032543631",
    "323032362d31312d32387431303a30353a30302c353030303030393339347a",
    "323036322d31312d32385431303a30352c323032362d",
    "323032362d31312d32385431303a30353a30302e313138322d5431303030",
    "323032362d31312d32387432303a30302e32303230323600",
    "323032362d31312d32385431303a30312c3531323320",
    "323032362d31312d32385431303a30312c353233373033312d313dbdffff20",
    "323032362d31312d32385431303a30302e323531312d323a5431",
    "323032362d31312d32385431303a30353a30302e3235323032362d2c6b30323a3030",
    "323032362d31312d32387432303a30312e3230323032362d31312d32387432303a30312e3230",
    "323036322d31312d32385431303a30302e32323036322d31",
    "323032362d31312d32385431303a30302e323530302e3235302b2b2a3a5431",
    "323032362d31312d30317431313a31362c30313131743a31362c318232823910",
    "323032362d31312d32385431303a30312c353233338c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c2031",
    "323032362d31312d32385431303a30302e313232385431303a3000",
    "323032362d31312d32385431303a30302e3030303030303235302b2b2a3a5431",
    "323032382d31322d32387437313a30302c3132383030302c7a",
    "323032362d31312d32385431303a30302e3235313031",
    "323032362d31312d32385431303a30302e323235363030",
    "323032362d31312d32385431303a30302e323531312d32385431",
    "323032362d31312d32385431303a30302e3235303031",
    "323032362d31312d32385431303a30302e323035302bd12c",
    "323032362d31312d32387431303a30353a30302c32313236352d32357a",
    "323032362d31312d32382031303a30362e30313230302d323920323032362d313130362d31312d3a3230362e32888888888838888888888888",
    "323032362d31312d32385431303a30353a30302e323532353532353630",
    "323032372d31302d32385434303a30352e32323232315a",
    "323032392d31312d32307437303a30302e31323032395a",
    "0d323032362d31312d32385435353a35322c38323032362d31312d32385435353a353232385435353a35323854",
    "323032362d31312d32385431303a30352c323036362d3130312d35",
]

private func rep(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

/// The largest and deepest queries the language accepts (one statement each: one literal
/// of them all is too much for the type checker).
private let acceptedQueries: [(String, String)] = {
    var q: [(String, String)] = []
    q.append(("256 OR'ed bare terms", (0..<256).map { "v\($0)*" }.joined(separator: " OR ")))
    q.append(("256 OR'ed attribute terms", (0..<256).map { "attributes.site:v\($0)" }.joined(separator: " OR ")))
    q.append(("256 AND'ed group terms", (0..<256).map { "thingGroupNames:g\($0 % 3)" }.joined(separator: " ")))
    q.append(("256 AND'ed attribute terms", rep("attributes.site:denver ", 256)))
    q.append(("256 AND'ed violation terms", rep("deviceDefender.violationCount>=0 ", 256)))
    q.append(("16 nested NOT, bare", rep("NOT ", 16) + "denver"))
    q.append(("16 nested NOT, exists", rep("NOT ", 16) + "attributes.site:*"))
    q.append(("15 NOT over an AND", rep("NOT ", 15) + "(thingGroupNames:g0 attributes.site:denver connectivity.connected:false)"))
    let bare: [String] = (0..<16).map { $0 % 2 == 0 ? "(a\($0)* OR " : "(a\($0) AND " }
    q.append(("16 alternating groups, bare", bare.joined() + "z" + rep(")", 16)))
    let attrs: [String] = (0..<16).map { $0 % 2 == 0 ? "(attributes.site:x\($0) OR " : "(thingGroupNames:g0 AND attributes.site:denver AND " }
    q.append(("16 alternating groups, attributes", attrs.joined() + "deviceDefender.violationCount>0" + rep(")", 16)))
    let wide: String = (0..<15).map { "attributes.site:v\($0)" }.joined(separator: " OR ")
    q.append(("16 levels, 226 terms", "NOT " + rep("(" + wide + " OR ", 15) + "thingGroupNames:g1" + rep(")", 15)))
    q.append(("an 8 KiB wildcard", "thingName:" + rep("\\[", 8000) + "*"))
    q.append(("an 8 KiB field", "attributes." + rep("k", 8181) + ":*"))
    q.append(("a 16 KiB query", "thingName:" + rep("x", 8182) + " OR attributes.site:" + rep("y", 8172)))
    return q
}()


private final class Findings: @unchecked Sendable {
    var lines: [String] = []
}

@Suite struct FuzzRegressionTests {
    /// The deepest JSON the reader takes (128 levels), read, printed, compared and freed on a
    /// 512 KB stack; one level more is an error, not a deeper recursion.
    @Test func deepestJSONFitsA512KStack() {
        let findings = Findings()
        onThread(stackSize: 512 * 1024) {
            for doc in [rep("[", 128) + rep("]", 128), rep(#"{"a":"#, 127) + "[1]" + rep("}", 127),
                        rep("[", 129) + rep("]", 129), rep(#"{"a":"#, 600) + "1" + rep("}", 600)] {
                do {
                    let v = try JSONValue.parse(doc)
                    let again = try JSONValue.parse(v.pretty)
                    findings.lines.append(again == v && v.compact == doc ? "ok" : "differs")
                } catch {
                    findings.lines.append((error as? JSONError)?.message ?? "\(error)")
                }
            }
        }
        #expect(findings.lines == ["ok", "ok", "JSON nested too deeply (more than 128 levels)", "JSON nested too deeply (more than 128 levels)"])
    }

    @Test(arguments: jsonFuzzInputs.map(\.0))
    func jsonFuzzerInputs(_ name: String) {
        let input = bytes(jsonFuzzInputs.first { $0.0 == name }!.1)
        do {
            let v = try JSONValue.parse(bytes: input)
            #expect(try JSONValue.parse(v.compact) == v)
        } catch {
            #expect(error.offset >= 0 && error.offset <= input.count)
        }
    }

    /// A high surrogate pairs only with a low one; alone it reads as U+FFFD.
    @Test(arguments: [
        (#""\ud800\u0041""#, "\u{FFFD}A"),
        (#""\ud800\ud600""#, "\u{FFFD}\u{D600}"),
        (#""\ud800\ud800\udc00""#, "\u{FFFD}\u{10000}"),
        (#""\udbff\udfff""#, "\u{10FFFF}"),
        (#""\ud83d\ude00""#, "\u{1F600}"),
        (#""\ud800\u""#, nil),
        (#""\ud800""#, "\u{FFFD}"),
        (#""\udc00""#, "\u{FFFD}"),
        (#""\ud800\n""#, "\u{FFFD}\n"),
    ] as [(String, String?)])
    func surrogates(_ json: String, _ expected: String?) {
        #expect((try? JSONValue.parse(json))?.stringValue == expected)
    }

    /// Presence marks far apart in time (stored before intake bounded timestamps, or planted)
    /// order without overflowing `timestamp - b.timestamp` in PresenceMark.isNewer; intake now
    /// rejects such timestamps.
    @Test(arguments: [(Int64.min, Int64(1)), (Int64.max, Int64(-1)), (Int64.min, Int64.max)])
    func presenceOrderOfFarApartEvents(_ a: Int64, _ b: Int64) throws {
        let ma = PresenceMark(timestamp: a, kind: .connected, session: "s1", version: 1, reason: nil)
        let mb = PresenceMark(timestamp: b, kind: .connected, session: "s2", version: 1, reason: nil)
        #expect(ma.isNewer(than: mb) != mb.isNewer(than: ma))
        let line = #"{"clientId":"a","timestamp":\#(a),"eventType":"connected","sessionIdentifier":"s1","versionNumber":1}"#
        #expect(throws: FleetError.self) { try LifecycleEvent.decode(line: Array(line.utf8)) }
    }

    /// Timestamp.parse traps on four or more fractional digits (`for _ in digits..<3` with
    /// digits > 3 forms an invalid range); the fuzzer's 59 inputs (Fuzz/crashes/timestamp/, in
    /// hex), all of that kind: with `if digits < 3 { for _ in digits..<3 { f *= 10 } }` none
    /// traps and 1,194,716 more inputs found nothing else.
    @Test(
          arguments: ["2026-11-28T10:05:00.0000Z"] + timestampFuzzInputs.map { String(decoding: bytes($0), as: UTF8.self) })
    func timestampFractions(_ s: String) {
        _ = Timestamp.parse(s)
    }

    /// The largest and deepest queries the language accepts, run on SQLite with the planner
    /// (estimates from a real index): SQLite takes every one. Before the limits, twice these
    /// failed late with InternalFailureException and the SQL.
    @Test(arguments: acceptedQueries)
    func acceptedQueriesRunOnSQLite(_ name: String, _ query: String) throws {
        let db = try Fixtures.database()
        let r = Registry(db)
        for g in ["g0", "g1", "g2"] { _ = try r.createThingGroup(name: g, parent: nil, properties: nil, at: 0) }
        for i in 0..<30 {
            _ = try r.createThing(name: "t\(i)", typeName: nil, attributes: [("site", i % 2 == 0 ? "denver" : "v\(i)")], at: 0)
            _ = try r.addThingToThingGroup(group: "g\(i % 3)", thingName: "t\(i)", overrideDynamicGroups: false, at: 0)
        }
        _ = try Fixtures.search(db, query)
    }

    /// One past each limit: a positioned InvalidQueryException (exit 65), no SQL.
    @Test(arguments: [
        ("257 terms", (0..<257).map { "v\($0)" }.joined(separator: " OR "), "at most 256 are allowed"),
        ("17 nested NOT", rep("NOT ", 17) + "denver", "nest more than 16 levels"),
        ("33 nested (", rep("(", 33) + "a" + rep(")", 33), "more than 32 levels deep"),
        ("an 8,193-byte value", "thingName:" + rep("x", 8192) + "*", "at most 8192 bytes"),
        ("16,385 bytes", rep("a ", 8192) + "b", "at most 16384 are allowed"),
    ])
    func pastTheLimitsFailInTheLanguage(_ name: String, _ query: String, _ message: String) throws {
        let db = try Fixtures.database()
        #expect {
            try Search(db).compile(query, at: 0)
        } throws: { e in
            guard let e = e as? FleetError else { return false }
            return e.exception == "InvalidQueryException" && e.code.isBadInput && e.httpStatus == 400 && e.message.contains(message) && e.detail?.contains("^") == true
        }
    }
}
