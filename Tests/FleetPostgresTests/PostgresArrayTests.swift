// PostgresArray: the text of array literals, and that PostgreSQL reads each element back
// exactly (quotes, backslashes, NULL, empty strings, non-ASCII, braces, commas, spaces).
import FleetPostgres
import FleetTestSupport
import Testing

@Suite struct PostgresArrayTests {
    /// Elements that need quoting or escaping, or that look like array syntax.
    static let awkward: [String?] = [
        "plain", "", " ", "  padded  ", "a,b", "{braces}", "}", "{", "\"", "say \"hi\"", "\\", "back\\slash", "\\\"",
        "NULL", "null", nil, "ünïcødé ✓ 設備 🚀", "tab\there", "line\nbreak", "'single'", "(paren)", "x=1;y=2", "[1:2]",
    ]

    @Test(arguments: [
        ([], "{}"),
        (["a"], #"{"a"}"#),
        (["", nil], #"{"",NULL}"#),
        (["NULL"], #"{"NULL"}"#),
        (["a,b", "{c}"], #"{"a,b","{c}"}"#),
        (["say \"hi\""], #"{"say \"hi\""}"#),
        (["back\\slash"], #"{"back\\slash"}"#),
        (["é ✓"], #"{"é ✓"}"#),
    ] as [([String?], String)])
    func textLiterals(_ elements: [String?], _ literal: String) {
        #expect(PostgresArray.literal(elements) == literal)
    }

    @Test func numberAndFlagLiterals() {
        #expect(PostgresArray.literal([Int64]()) == "{}")
        #expect(PostgresArray.literal([1, -2, .max, .min] as [Int64]) == "{1,-2,9223372036854775807,-9223372036854775808}")
        #expect(PostgresArray.literal([1, nil, 3] as [Int64?]) == "{1,NULL,3}")
        #expect(PostgresArray.literal([true, false] as [Bool]) == "{t,f}")
        #expect(PostgresArray.literal([true, nil, false] as [Bool?]) == "{t,NULL,f}")
        #expect(PostgresArray.literal(["a", "b"] as [String]) == #"{"a","b"}"#)
    }

    /// Numbers written as bytes say what Swift's own text says, for values of every size.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func numbersAreWrittenAsSwiftWritesThem(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let ints: [Int64] = (0..<500).map { i in
            let v = Int64(bitPattern: rng.next())
            return v >> (i % 64)   // small and large magnitudes, both signs
        }
        #expect(PostgresArray.literal(ints) == "{" + ints.map(String.init).joined(separator: ",") + "}")
        let optional: [Int64?] = ints.enumerated().map { $0.offset % 5 == 0 ? nil : $0.element }
        #expect(PostgresArray.literal(optional) == "{" + optional.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}")
        let doubles: [Double?] = ints.map { Double($0) / 7 } + [nil, .nan, .infinity, -.infinity, 0.1, -0.0]
        let texts = doubles.map { d -> String in
            guard let d else { return "NULL" }
            return d.isNaN ? "NaN" : d == .infinity ? "Infinity" : d == -.infinity ? "-Infinity" : "\(d)"
        }
        #expect(PostgresArray.literal(doubles) == "{" + texts.joined(separator: ",") + "}")
    }

    @Test func everyTextElementReadsBackExactly() throws {
        let db = try freshDatabase()
        let rows = try db.query("SELECT x, x IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                                [PostgresValue.text(PostgresArray.literal(Self.awkward))])
        #expect(rows.count == Self.awkward.count)
        for (row, expected) in zip(rows, Self.awkward) {
            #expect(row.optionalText(0) == expected, "\(String(reflecting: expected))")
            #expect(row.bool(1) == (expected == nil))
        }
    }

    @Test func numbersAndFlagsReadBackExactly() throws {
        let db = try freshDatabase()
        let ints: [Int64?] = [0, -1, .max, .min, nil, 42]
        let flags: [Bool?] = [true, false, nil, true, false, nil]
        let rows = try db.query("SELECT i, b FROM unnest($1::bigint[], $2::boolean[]) WITH ORDINALITY AS u(i, b, n) ORDER BY n",
                                [PostgresValue.text(PostgresArray.literal(ints)), PostgresValue.text(PostgresArray.literal(flags))])
        #expect(rows.map { $0.optionalInt(0) } == ints)
        #expect(rows.map { $0.isNull(1) ? nil : $0.bool(1) } == flags)
    }

    /// Many elements in one parameter (an ingest batch's size), matched with `= ANY`.
    @Test func aLargeArrayIsOneParameter() throws {
        let db = try freshDatabase()
        try db.execute(script: "CREATE TABLE c (name text PRIMARY KEY)")
        let names = (0..<20_000).map { "dev-\($0),\"\\{\($0 % 7)}" }
        try db.execute("INSERT INTO c SELECT unnest($1::text[])", [PostgresValue.text(PostgresArray.literal(names))])
        let found = try db.query("SELECT count(*) FROM c WHERE name = ANY($1::text[])",
                                 [PostgresValue.text(PostgresArray.literal(names.filter { $0.hasSuffix("{3}") } + ["absent"]))])
        #expect(found.first?.int(0) == Int64(names.filter { $0.hasSuffix("{3}") }.count))
    }
}
