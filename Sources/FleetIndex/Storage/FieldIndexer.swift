// FleetIndex: flattens attributes and shadow documents into the searchable leaf rows of
// thing_text, thing_number and thing_flag (one row per value, arrays element by element).
import FleetQuery

/// Turns registry documents into indexed leaf values.
public enum FieldIndexer {
    /// The rows for a thing's attributes (strings; numeric strings also as numbers).
    public static func attributes(_ attrs: [(String, String)]) -> [FieldValue] {
        attrs.map { k, v in FieldValue(field: "attributes." + k, lower: v.lowercased(), num: JSONNumber.parse(v)) }
    }

    /// The rows for one shadow: reported, desired, delta leaves and hasDelta.
    /// `prefix` is `shadow` for the classic shadow, `shadow.name.<n>` for a named one.
    public static func shadow(_ state: ShadowState, prefix: String) -> [FieldValue] {
        var out: [FieldValue] = []
        if let r = state.reported { leaves(r, prefix + ".reported", &out) }
        if let d = state.desired { leaves(d, prefix + ".desired", &out) }
        if let delta = state.delta { leaves(delta, prefix + ".delta", &out) }
        out.append(FieldValue(field: prefix + ".hasDelta", flag: state.delta != nil))
        return out
    }

    static func leaves(_ v: JSONValue, _ path: String, _ out: inout [FieldValue]) {
        switch v {
        case .object(let ms):
            for m in ms { leaves(m.value, path + "." + m.key, &out) }
        case .array(let xs):
            // Arrays of simple values: one row per element; objects and nested arrays are not indexed.
            for x in xs {
                switch x {
                case .object, .array, .null: continue
                default: leaves(x, path, &out)
                }
            }
        case .string(let s): out.append(FieldValue(field: path, lower: s.lowercased()))
        case .number(let n): out.append(FieldValue(field: path, num: Double(n)))
        case .bool(let b): out.append(FieldValue(field: path, flag: b))
        case .null: break
        }
    }
}

/// A shadow's state sections, with the delta derived from desired and reported.
public struct ShadowState: Equatable {
    public var reported: JSONValue?
    public var desired: JSONValue?

    public init(reported: JSONValue?, desired: JSONValue?) {
        self.reported = reported
        self.desired = desired
    }

    /// The desired values that differ from reported (AWS's delta); nil when none.
    public var delta: JSONValue? {
        guard let desired else { return nil }
        return Self.delta(desired, reported)
    }

    static func delta(_ desired: JSONValue, _ reported: JSONValue?) -> JSONValue? {
        guard case .object(let dm) = desired else {
            return desired == reported ? nil : desired
        }
        var out: [JSONMember] = []
        for m in dm {
            let r = reported?[m.key]
            if case .object = m.value, let r, case .object = r {
                if let d = delta(m.value, r) { out.append(JSONMember(m.key, d)) }
            } else if m.value != r {
                out.append(JSONMember(m.key, m.value))
            }
        }
        return out.isEmpty ? nil : .object(out)
    }

    /// Applies an update: members set to null are removed, objects merge recursively.
    public static func merge(_ base: JSONValue?, _ update: JSONValue) -> JSONValue? {
        guard case .object(let um) = update else { return update.isNull ? nil : update }
        var result: [JSONMember] = base?.objectValue ?? []
        for m in um {
            if let idx = result.firstIndex(where: { $0.key == m.key }) {
                if m.value.isNull { result.remove(at: idx); continue }
                if case .object = m.value, case .object = result[idx].value {
                    if let merged = merge(result[idx].value, m.value) { result[idx].value = merged } else { result.remove(at: idx) }
                } else {
                    result[idx].value = m.value
                }
            } else if !m.value.isNull {
                result.append(m)
            }
        }
        return result.isEmpty ? nil : .object(result)
    }
}
