// FleetIndex: the classic shadow a new thing gets from its import line, computed without
// reading anything, for the importer's batch path (PostgreSQL writes a batch's new shadows
// set-based). It is what `Registry.writeShadow(thing:name:"",state:at:)` stores for a thing
// with no shadow yet: ImportBackendTests compares the two engines, SQLite taking writeShadow.
import FleetQuery

/// A new thing's classic shadow: its stored document, delta flag and index rows.
struct FirstShadow {
    var document: String
    var hasDelta: Bool
    var fields: [FieldValue]
}

extension Registry {
    /// The classic shadow (version 1) that writing `state` gives a thing without one.
    func firstClassicShadow(state: JSONValue) -> FirstShadow {
        var reported: JSONValue? = nil, desired: JSONValue? = nil
        if !state.isNull {
            if let r = state["reported"] { reported = r.isNull ? nil : ShadowState.merge(nil, r) }
            if let d = state["desired"] { desired = d.isNull ? nil : ShadowState.merge(nil, d) }
        }
        let shadowState = ShadowState(reported: reported, desired: desired)
        let stateJSON = jsonObject([("desired", desired), ("reported", reported), ("delta", shadowState.delta)])
        let doc = jsonObject([("state", stateJSON), ("version", .int(1))])
        return FirstShadow(document: doc.compact, hasDelta: shadowState.delta != nil,
                           fields: shadowFields(name: "", document: doc, allowed: nil))
    }
}
