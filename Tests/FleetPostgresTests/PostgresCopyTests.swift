// COPY … FROM STDIN: the text format's escapes, and real COPYs against the throwaway cluster
// (values read back as sent, NULL apart from the empty string, errors, aborts, many pieces).
import FleetPostgres
import FleetTestSupport
import Testing

@Suite struct PostgresCopyTests {
    /// One value and the bytes COPY's text format gives it.
    static let encodings: [(PostgresValue, String)] = [
        (.text("plain"), "plain"),
        (.text(""), ""),
        (.null, "\\N"),
        (.text("\\N"), "\\\\N"),                       // literally backslash-N, not NULL
        (.text("NULL"), "NULL"),
        (.text("a\tb"), "a\\tb"),
        (.text("line\nbreak"), "line\\nbreak"),
        (.text("cr\rlf\n"), "cr\\rlf\\n"),
        (.text("back\\slash"), "back\\\\slash"),
        (.text("\\"), "\\\\"),
        (.text("\u{8}\u{c}\u{b}"), "\\b\\f\\v"),
        (.text("\u{1}\u{1f}"), "\u{1}\u{1f}"),          // other control bytes as they are
        (.text("ünïcødé ✓ 日本"), "ünïcødé ✓ 日本"),
        (.text("it's \"quoted\""), "it's \"quoted\""),
        (.text("\t\\\n\\N\r"), "\\t\\\\\\n\\\\N\\r"),
        (.int(0), "0"), (.int(-42), "-42"), (.int(.max), "9223372036854775807"), (.int(.min), "-9223372036854775808"),
        (.double(1.5), "1.5"), (.double(.nan), "NaN"), (.double(.infinity), "Infinity"), (.double(-.infinity), "-Infinity"),
        (.bool(true), "t"), (.bool(false), "f"),
        (.texts(["a", "b\tc"]), "{\"a\",\"b\\tc\"}"),
    ]

    @Test(arguments: encodings.indices)
    func aValueIsEscapedForTheTextFormat(_ i: Int) throws {
        let (value, expected) = Self.encodings[i]
        let bytes = try PostgresCopyEncoder.encode([[value]])
        #expect(String(decoding: bytes, as: UTF8.self) == expected + "\n")
    }

    @Test func fieldsAreSplitByTabsAndRowsEndedByNewlines() throws {
        let bytes = try PostgresCopyEncoder.encode([[.text("a"), .null, .int(1)], [.text(""), .text("x\ty"), .double(2.25)]])
        #expect(String(decoding: bytes, as: UTF8.self) == "a\t\\N\t1\n\tx\\ty\t2.25\n")
    }

    @Test func aNulByteIsRefused() throws {
        #expect(throws: PostgresError.self) { try PostgresCopyEncoder.encode([[.text("a\u{0}b")]]) }
    }

    static let texts: [String?] = [
        "plain", "", nil, "\\N", "NULL", "a\tb", "line\nbreak", "cr\r", "back\\slash", "\\", "\\\\N",
        "\u{8}\u{c}\u{b}\u{1}", "ünïcødé ✓ 日本 🚀", "'; DROP TABLE c; --", "\t\\\n\\N\r", " trailing ",
    ]

    /// Every value comes back as it was sent, through a real COPY; NULL is not the empty string.
    @Test func copiedRowsReadBackAsSent() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE c (n bigint PRIMARY KEY, t text, d double precision, b boolean)")
        let doubles: [Double] = [0, -0.0, 1.5, -1e300, 2.5e-300, .infinity, -.infinity, 0.1, 123456789.125]
        var rows: [[PostgresValue]] = []
        for (i, t) in Self.texts.enumerated() {
            rows.append([.int(Int64(i)), t.map(PostgresValue.text) ?? .null, .double(doubles[i % doubles.count]), .bool(i % 2 == 0)])
        }
        let stored = try db.copy(into: "c", columns: ["n", "t", "d", "b"], rows: rows)
        #expect(stored == rows.count)
        let back = try db.query("SELECT n, t, d, b FROM c ORDER BY n")
        #expect(back.count == rows.count)
        for r in back {
            let i = Int(r.int(0))
            #expect(r.optionalText(1) == Self.texts[i], "row \(i)")
            #expect(r.double(2) == doubles[i % doubles.count] || (r.double(2).isNaN && doubles[i % doubles.count].isNaN))
            #expect(r.bool(3) == (i % 2 == 0))
        }
        #expect(try db.query("SELECT count(*) FROM c WHERE t IS NULL").first?.int(0) == 1)
        #expect(try db.query("SELECT count(*) FROM c WHERE t = ''").first?.int(0) == 1)
    }

    /// More rows than one piece holds (256 KiB) arrive whole, in order.
    @Test func aLargeCopyIsSentInPieces() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE big (n bigint, t text)")
        let stored = try db.copy(into: "big", columns: ["n", "t"]) { s in
            for i in 0..<50_000 {
                s.encoder.append(int: Int64(i))
                try s.encoder.append(text: "value\t\(i)\\")
                s.endRow()
            }
        }
        #expect(stored == 50_000)
        let r = try db.query("SELECT count(*), sum(n), min(t), count(*) FILTER (WHERE t = 'value' || chr(9) || n || '\\') FROM big").first!
        #expect(r.int(0) == 50_000 && r.int(1) == 49_999 * 50_000 / 2 && r.int(3) == 50_000)
    }

    /// The server's error (here a duplicate key) is thrown; the connection goes on.
    @Test func aConstraintViolationIsThrownAndTheConnectionGoesOn() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE u (n bigint PRIMARY KEY)")
        do {
            try db.copy(into: "u", columns: ["n"], rows: (0..<10_000).map { [PostgresValue.int(Int64($0 % 9_000))] })
            Issue.record("the COPY should have failed")
        } catch let e as PostgresError {
            #expect(e.isUniqueViolation, "\(e)")
        }
        #expect(try db.query("SELECT count(*) FROM u").first?.int(0) == 0)
        try db.copy(into: "u", columns: ["n"], rows: [[.int(1)]])
        #expect(try db.query("SELECT count(*) FROM u").first?.int(0) == 1)
    }

    struct Stop: Error {}

    /// An error of the rows' producer aborts the COPY: nothing is stored, the error is rethrown.
    @Test func anErrorWhileEncodingAbortsTheCopy() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE a (t text)")
        #expect(throws: Stop.self) {
            try db.copy(into: "a", columns: ["t"]) { s in
                for i in 0..<20_000 {
                    try s.encoder.append(text: "row \(i)")
                    s.endRow()
                }
                throw Stop()
            }
        }
        #expect(throws: PostgresError.self) {
            try db.copy(into: "a", columns: ["t"]) { s in
                try s.encoder.append(text: "fine")
                s.endRow()
                try s.encoder.append(text: "nul \u{0}")
            }
        }
        #expect(try db.query("SELECT count(*) FROM a").first?.int(0) == 0)
        // Inside a transaction the abort fails the transaction, as a failed statement does.
        try db.execute(script: "BEGIN")
        #expect(throws: Stop.self) { try db.copy(into: "a", columns: ["t"]) { _ in throw Stop() } }
        #expect(throws: PostgresError.self) { try db.execute("SELECT 1") }
        try db.execute(script: "ROLLBACK")
        #expect(try db.query("SELECT count(*) FROM a").first?.int(0) == 0)
    }

    /// A bad value (not a number for a bigint column) is the server's error, with its SQLSTATE.
    @Test func aValueOfTheWrongTypeIsTheServersError() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE w (n bigint)")
        do {
            try db.copy(into: "w", columns: ["n"], rows: [[.text("seven")]])
            Issue.record("the COPY should have failed")
        } catch let e as PostgresError {
            #expect(e.sqlState == "22P02", "\(e)")
        }
        #expect(throws: PostgresError.self) { try db.copy(into: "no_such_table", columns: ["n"], rows: [[.int(1)]]) }
        try db.copy(into: "w", columns: ["n"], rows: [[.int(7)]])
        #expect(try db.query("SELECT n FROM w").first?.int(0) == 7)
    }
}
