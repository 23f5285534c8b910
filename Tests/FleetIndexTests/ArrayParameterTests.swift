// The array literals the stores' batched statements bind (PostgresArray), through the stores' connection
// on PostgreSQL, read back element for element.
import FleetIndex
import FleetPostgres
import FleetSQLite
import Testing

@Suite struct ArrayParameterTests {
    static let texts: [[String?]] = [
        [], [""], [nil], ["NULL"], ["a", nil, "b"],
        ["it's", "\"quoted\"", "back\\slash", "trailing\\", "{braces}", "a,b", " spaced ", "tab\there", "new\nline"],
        ["ünïcødé ✓", "日本語", "emoji 🛰️"],
    ]

    @Test(arguments: texts) func textsReadBack(_ xs: [String?]) throws {
        let db = try Fixtures.database(.postgres)
        let back = try db.connection.query("SELECT x FROM unnest(?::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [PostgresArray.literal(xs)]) {
            $0.optionalText(0)
        }
        #expect(back == xs)
    }

    static let integers: [[Int64?]] = [[], [0], [nil], [.min, -1, nil, 1, .max]]

    @Test(arguments: integers) func integersReadBack(_ xs: [Int64?]) throws {
        let db = try Fixtures.database(.postgres)
        let back = try db.connection.query("SELECT x FROM unnest(?::bigint[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [PostgresArray.literal(xs)]) {
            $0.optionalInt(0)
        }
        #expect(back == xs)
    }

    @Test func realsAndFlagsReadBack() throws {
        let db = try Fixtures.database(.postgres)
        let reals: [Double?] = [0.1, -2.5, 1e300, 5e-324, nil, 42, .infinity, -.infinity]
        let back = try db.connection.query("SELECT x FROM unnest(?::double precision[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                                           [PostgresArray.literal(reals)]) { $0.isNull(0) ? nil : $0.double(0) }
        #expect(back == reals)
        let flags = [true, false, true]
        let b = try db.connection.query("SELECT x FROM unnest(?::boolean[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [PostgresArray.literal(flags)]) {
            $0.int(0) == 1
        }
        #expect(b == flags)
    }
}
