// Text holding U+0000 is stored and searched whole: two client ids that differ only after a
// NUL stay two clients, and a shadow value with a NUL is found by exactly that value.
import FleetIndex
import FleetSQLite
import Foundation
import Testing

/// A query argument, named with its escapes (a raw NUL would garble the test log).
struct EscapedQuery: CustomTestStringConvertible, Sendable {
    let text: String
    var testDescription: String { text.debugDescription }
}

@Suite struct NulTextTests {
    @Test func clientIdsThatDifferAfterANulStayTwoClients() throws {
        let db = try Fixtures.database()
        try Fixtures.ingest(db, [Fixtures.event("nul\u{0}A", Fixtures.t0, .connected),
                                 Fixtures.event("nul\u{0}B", Fixtures.t0 + 1000, .connected)])
        let ids = try db.connection.query("SELECT client_id FROM client ORDER BY client_id", [], { $0.text(0) })
        #expect(ids == ["nul\u{0}A", "nul\u{0}B"])
    }

    /// (query, things found): the value `x\0y` is neither `x` nor `x\0z`.
    static let searches: [(EscapedQuery, [String])] = [
        ("shadow.reported.v:\"x\u{0}y\"", ["nul-value"]),
        ("shadow.reported.v:\"x\u{0}z\"", []),
        ("shadow.reported.v:x", ["plain"]),
        ("shadow.reported.v:\"x\"", ["plain"]),
        ("shadow.reported.v:x*", ["nul-value", "plain"]),
    ].map { (EscapedQuery(text: $0.0), $0.1) }

    @Test(arguments: searches)
    func aShadowValueWithANulIsSearchedWhole(_ q: EscapedQuery, _ expected: [String]) throws {
        let query = q.text
        let db = try Fixtures.database()
        let r = Registry(db)
        for (name, value) in [("nul-value", "x\u{0}y"), ("plain", "x")] {
            _ = try r.createThing(name: name, typeName: nil, attributes: nil, at: 0)
            _ = try r.updateThingShadow(thingName: name, shadowName: nil,
                                        payload: jsonObject([("state", jsonObject([("reported", jsonObject([("v", .string(value))]))]))]), at: 0)
        }
        #expect(try Fixtures.search(db, query) == expected)
        #expect(try r.getThingShadow(thingName: "nul-value", shadowName: nil)["state"]?["reported"]?["v"]?.stringValue == "x\u{0}y")
    }
}
