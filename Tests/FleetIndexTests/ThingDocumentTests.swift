// A search page's ThingDocuments on both engines: each thing's direct groups and named shadows
// in name order (the bytes' order), the classic shadow's sections, and what the indexing
// configuration leaves out (no shadow with REGISTRY, no groups with the registry off).
import FleetIndex
import Foundation
import Testing

@Suite struct ThingDocumentTests {
    static let t0 = Fixtures.ms("2026-11-28T10:00:00Z")

    /// pump-1: seven groups, a classic and four named shadows; pump-2: one group; pump-3: none.
    func fleet(_ backend: Backend) throws -> FleetDatabase {
        let db = try Fixtures.database(backend)
        let r = Registry(db)
        for name in ["pump-1", "pump-2", "pump-3"] { _ = try r.createThing(name: name, typeName: nil, attributes: [("site", "denver")], at: Self.t0) }
        for g in ["b", "a", "Z", "_x", "ab", "-q", "9"] {
            _ = try r.createThingGroup(name: g, parent: nil, properties: nil, at: Self.t0)
            _ = try r.addThingToThingGroup(group: g, thingName: "pump-1", overrideDynamicGroups: false, at: Self.t0)
        }
        _ = try r.addThingToThingGroup(group: "b", thingName: "pump-2", overrideDynamicGroups: false, at: Self.t0)
        for shadow in [nil, "zz", "gps", "Ab", "_1"] as [String?] {
            _ = try r.updateThingShadow(thingName: "pump-1", shadowName: shadow, payload: try JSONValue.parse(#"{"state":{"reported":{"n":"\#(shadow ?? "classic")"}}}"#), at: Self.t0)
        }
        return db
    }

    func page(_ db: FleetDatabase) throws -> [String: JSONValue] {
        let r = try Search(db).searchIndex(indexName: nil, query: "attributes.site:denver", maxResults: 10, nextToken: nil, at: Self.t0)
        return Dictionary(uniqueKeysWithValues: (r["things"]?.arrayValue ?? []).map { ($0["thingName"]?.stringValue ?? "", $0) })
    }

    @Test(arguments: Backend.allCases)
    func groupsAndShadowsInNameOrder(_ backend: Backend) throws {
        let docs = try page(try fleet(backend))
        #expect(docs.keys.sorted() == ["pump-1", "pump-2", "pump-3"])
        #expect(docs["pump-1"]?["thingGroupNames"] == .array(["-q", "9", "Z", "_x", "a", "ab", "b"].map(JSONValue.string)))
        #expect(docs["pump-2"]?["thingGroupNames"] == .array([.string("b")]))
        #expect(docs["pump-3"]?["thingGroupNames"] == nil)
        let shadow = try JSONValue.parse(try #require(docs["pump-1"]?["shadow"]?.stringValue))
        #expect(shadow["reported"]?["n"] == .string("classic"))
        #expect(shadow["name"]?.objectValue?.map(\.key) == ["Ab", "_1", "gps", "zz"])
        #expect(shadow["name"]?["gps"]?["reported"]?["n"] == .string("gps"))
        #expect(docs["pump-2"]?["shadow"] == nil && docs["pump-3"]?["shadow"] == nil)
    }

    @Test(arguments: Backend.allCases)
    func theRegistryAloneShowsNoShadow(_ backend: Backend) throws {
        let db = try fleet(backend)
        _ = try IndexConfiguration(db).update(try JSONValue.parse(#"{"thingIndexingMode":"REGISTRY"}"#))
        let docs = try page(db)
        #expect(docs["pump-1"]?["shadow"] == nil)
        #expect(docs["pump-1"]?["thingGroupNames"]?.arrayValue?.count == 7)
        #expect(docs["pump-1"]?["attributes"]?["site"] == .string("denver"))
    }
}
