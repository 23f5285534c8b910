// UpdateIndexingConfiguration as AWS has it: a mode the request leaves out is OFF (only
// thingIndexingMode is required), GetIndexingConfiguration shows every mode, and a query on
// a field whose mode is off is refused.
import FleetIndex
import Foundation
import Testing

@Suite struct IndexConfigurationTests {
    static let modeNames = ["thingIndexingMode", "thingConnectivityIndexingMode", "deviceDefenderIndexingMode", "namedShadowIndexingMode"]

    /// (request, the four modes get-indexing-configuration shows, queries taken, queries refused)
    static let configurations: [(String, [String], [String], [String])] = [
        (#"{"thingIndexingMode":"REGISTRY"}"#, ["REGISTRY", "OFF", "OFF", "OFF"],
         ["attributes.site:denver"], ["connectivity.connected:true", "deviceDefender.P.*.inViolation:true", "shadow.reported.temp>1"]),
        (#"{"thingIndexingMode":"REGISTRY_AND_SHADOW","thingConnectivityIndexingMode":"STATUS"}"#, ["REGISTRY_AND_SHADOW", "STATUS", "OFF", "OFF"],
         ["connectivity.connected:true", "shadow.reported.temp>1"], ["deviceDefender.P.*.inViolation:true", "shadow.name.gps.reported.lat>1"]),
        (#"{"thingIndexingMode":"REGISTRY_AND_SHADOW","deviceDefenderIndexingMode":"VIOLATIONS"}"#, ["REGISTRY_AND_SHADOW", "OFF", "VIOLATIONS", "OFF"],
         ["deviceDefender.P.*.inViolation:true"], ["connectivity.connected:true"]),
        (#"{"thingIndexingMode":"REGISTRY_AND_SHADOW","namedShadowIndexingMode":"ON"}"#, ["REGISTRY_AND_SHADOW", "OFF", "OFF", "ON"],
         ["shadow.name.gps.reported.lat>1"], ["connectivity.connected:true"]),
        (#"{"thingIndexingMode":"REGISTRY_AND_SHADOW","thingConnectivityIndexingMode":"STATUS","deviceDefenderIndexingMode":"VIOLATIONS","namedShadowIndexingMode":"ON"}"#,
         ["REGISTRY_AND_SHADOW", "STATUS", "VIOLATIONS", "ON"],
         ["connectivity.connected:true", "deviceDefender.P.*.inViolation:true", "shadow.name.gps.reported.lat>1"], []),
        (#"{"thingIndexingMode":"OFF"}"#, ["OFF", "OFF", "OFF", "OFF"], [], ["thingName:a", "connectivity.connected:true"]),
        (#"{"thingIndexingMode":"REGISTRY","thingConnectivityIndexingMode":"OFF","deviceDefenderIndexingMode":"OFF","namedShadowIndexingMode":"OFF"}"#,
         ["REGISTRY", "OFF", "OFF", "OFF"], ["thingName:a"], ["connectivity.connected:true"]),
    ]

    @Test(arguments: configurations)
    func omittedModesAreOff(_ request: String, _ modes: [String], _ taken: [String], _ refused: [String]) throws {
        let db = try Fixtures.database()
        let config = IndexConfiguration(db)
        // From everything on, so that a mode left out has to be turned off.
        _ = try config.update(try JSONValue.parse(#"{"thingIndexingMode":"REGISTRY_AND_SHADOW","thingConnectivityIndexingMode":"STATUS","deviceDefenderIndexingMode":"VIOLATIONS","namedShadowIndexingMode":"ON"}"#))
        _ = try config.update(try JSONValue.parse(request))
        let shown = try config.get()["thingIndexingConfiguration"]
        #expect(Self.modeNames.map { shown?[$0]?.stringValue } == modes)
        for q in taken { #expect(throws: Never.self, "\(q)") { _ = try Fixtures.search(db, q) } }
        for q in refused {
            #expect("\(q)") { _ = try Fixtures.search(db, q) } throws: { ($0 as? FleetError)?.exception == "InvalidQueryException" }
        }
    }

    @Test func anUnconfiguredIndexHasEveryModeOn() throws {
        let shown = try IndexConfiguration(try Fixtures.database()).get()["thingIndexingConfiguration"]
        #expect(Self.modeNames.map { shown?[$0]?.stringValue } == ["REGISTRY_AND_SHADOW", "STATUS", "VIOLATIONS", "ON"])
    }

    /// (request, what the error says)
    static let refusals: [(String, String)] = [
        (#"{"thingConnectivityIndexingMode":"STATUS"}"#, "thingIndexingMode is required"),
        (#"{"thingIndexingMode":null}"#, "thingIndexingMode must be one of OFF, REGISTRY, REGISTRY_AND_SHADOW"),
        (#"{"thingIndexingMode":"REGISTRY","deviceDefenderIndexingMode":"ON"}"#, "deviceDefenderIndexingMode must be one of OFF, VIOLATIONS"),
        (#"{"thingIndexingMode":"OFF","thingConnectivityIndexingMode":"STATUS"}"#,
         "thingConnectivityIndexingMode STATUS needs thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW (it is OFF)"),
        (#"{"thingIndexingMode":"OFF","namedShadowIndexingMode":"ON"}"#,
         "namedShadowIndexingMode ON needs thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW (it is OFF)"),
    ]

    @Test(arguments: refusals)
    func badConfigurationsAreRefusedAndChangeNothing(_ request: String, _ message: String) throws {
        let db = try Fixtures.database()
        let config = IndexConfiguration(db)
        let before = try config.get()
        #expect { _ = try config.update(try JSONValue.parse(request)) } throws: {
            ($0 as? FleetError)?.exception == "InvalidRequestException" && ($0 as? FleetError)?.message == message
        }
        #expect(try config.get() == before)
    }
}
