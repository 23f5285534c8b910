// FleetIndex: a security profile's behavior, validated against the botocore model's rules
// and fleetdex's (cloud-side metrics only), and the `--alert-when` form that writes it.
import Foundation

/// One behavior of a security profile, in AWS terms: criteria state *normal* behaviour.
public struct Behavior: Equatable {
    public var name: String
    public var metric: String
    public var comparisonOperator: String
    public var threshold: Double
    public var consecutiveDatapointsToAlarm: Int
    public var consecutiveDatapointsToClear: Int
    public var suppressAlerts: Bool
    /// The behavior as given (AWS JSON), echoed back by describe and in violations.
    public var json: JSONValue

    /// The cloud-side metrics fleetdex computes from lifecycle events.
    public static let metrics: Set<String> = ["aws:disconnect-duration", "aws:num-disconnects",
                                              "aws:num-connection-attempts", "aws:num-authorization-failures"]

    /// True when `value` breaks the behavior (the criteria do not hold).
    public func violates(_ value: Double) -> Bool {
        switch comparisonOperator {
        case "less-than": return !(value < threshold)
        case "less-than-equals": return !(value <= threshold)
        case "greater-than": return !(value > threshold)
        default: return !(value >= threshold)
        }
    }

    /// Parses and checks a `--behaviors` list, collecting every problem.
    public static func parseList(_ v: JSONValue) -> (behaviors: [Behavior], errors: [String]) {
        guard let items = v.arrayValue else { return ([], ["behaviors must be a JSON array"]) }
        var out: [Behavior] = []
        var errors: [String] = []
        if items.count > 100 { errors.append("a security profile can have at most 100 behaviors, got \(items.count)") }
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let (b, errs) = parse(item, index: i)
            errors += errs
            if let b {
                if !names.insert(b.name).inserted { errors.append("behaviors[\(i)]: the name '\(b.name)' is used twice") }
                out.append(b)
            }
        }
        return (out, errors)
    }

    static func parse(_ v: JSONValue, index i: Int) -> (Behavior?, [String]) {
        var errors: [String] = []
        let at = "behaviors[\(i)]"
        guard case .object(let members) = v else { return (nil, ["\(at): expected an object"]) }
        let known: Set<String> = ["name", "metric", "metricDimension", "criteria", "suppressAlerts", "exportMetric"]
        for m in members where !known.contains(m.key) { errors.append("\(at): unknown member '\(m.key)'") }
        let name = v["name"]?.stringValue ?? ""
        if name.isEmpty { errors.append("\(at): name is required") } else {
            do { try Validation.name(name, "behavior name") } catch { errors.append("\(at): \(error.message)") }
        }
        let metric = v["metric"]?.stringValue ?? ""
        if metric.isEmpty {
            errors.append("\(at) (\(name)): metric is required")
        } else if !metrics.contains(metric) {
            errors.append("\(at) (\(name)): metric '\(metric)' is not computed by fleetdex (cloud-side metrics from lifecycle events: \(metrics.sorted().joined(separator: ", ")))")
        }
        if v["metricDimension"] != nil { errors.append("\(at) (\(name)): metricDimension does not apply to \(metric)") }
        guard let criteria = v["criteria"], case .object(let cm) = criteria else {
            errors.append("\(at) (\(name)): criteria are required")
            return (nil, errors)
        }
        let knownCriteria: Set<String> = ["comparisonOperator", "value", "durationSeconds", "consecutiveDatapointsToAlarm",
                                          "consecutiveDatapointsToClear", "statisticalThreshold", "mlDetectionConfig"]
        for m in cm where !knownCriteria.contains(m.key) { errors.append("\(at) (\(name)): unknown criteria member '\(m.key)'") }
        if criteria["statisticalThreshold"] != nil { errors.append("\(at) (\(name)): statisticalThreshold is not supported for cloud-side metrics here") }
        if criteria["mlDetectionConfig"] != nil { errors.append("\(at) (\(name)): ML detection is not supported") }
        let op = criteria["comparisonOperator"]?.stringValue ?? ""
        let numeric = ["less-than", "less-than-equals", "greater-than", "greater-than-equals"]
        if op.isEmpty {
            errors.append("\(at) (\(name)): criteria.comparisonOperator is required")
        } else if !numeric.contains(op) {
            let all = numeric + ["in-cidr-set", "not-in-cidr-set", "in-port-set", "not-in-port-set", "in-set", "not-in-set"]
            errors.append(all.contains(op) ? "\(at) (\(name)): \(op) does not apply to \(metric) (a count)"
                                           : "\(at) (\(name)): '\(op)' is not a comparisonOperator")
        } else if metric == "aws:disconnect-duration" && !op.hasPrefix("less-than") {
            errors.append("\(at) (\(name)): aws:disconnect-duration takes less-than or less-than-equals only (alert when disconnected for N minutes or more is less-than N)")
        }
        var threshold = 0.0
        if let count = criteria["value"]?["count"] {
            if let n = count.int64Value, count.doubleValue == Double(n), n >= 0 { threshold = Double(n) } else {
                errors.append("\(at) (\(name)): criteria.value.count must be a whole number ≥ 0")
            }
        } else {
            errors.append("\(at) (\(name)): criteria.value.count is required")
        }
        if criteria["durationSeconds"] != nil {
            errors.append("\(at) (\(name)): durationSeconds does not apply to cloud-side metrics")
        }
        func datapoints(_ key: String) -> Int {
            guard let v = criteria[key] else { return 1 }
            guard let n = v.int64Value, (1...10).contains(n) else {
                errors.append("\(at) (\(name)): criteria.\(key) must be between 1 and 10")
                return 1
            }
            return Int(n)
        }
        let toAlarm = datapoints("consecutiveDatapointsToAlarm")
        let toClear = datapoints("consecutiveDatapointsToClear")
        let suppress = v["suppressAlerts"]?.boolValue ?? false
        if let s = v["suppressAlerts"], s.boolValue == nil { errors.append("\(at) (\(name)): suppressAlerts must be true or false") }
        guard errors.isEmpty else { return (nil, errors) }
        return (Behavior(name: name, metric: metric, comparisonOperator: op, threshold: threshold,
                         consecutiveDatapointsToAlarm: toAlarm, consecutiveDatapointsToClear: toClear,
                         suppressAlerts: suppress, json: v), [])
    }

    /// Parses `--alert-when 'NAME: METRIC OP VALUE [for N datapoints] [clear after M]'`
    /// (conditions separated by `;`) into AWS behaviors: the criteria are the negation.
    public static func alertWhen(_ text: String) throws(FleetError) -> JSONValue {
        var out: [JSONValue] = []
        for part in text.split(separator: ";") {
            let cond = String(part).trimmingSpaces
            if cond.isEmpty { continue }
            guard let colon = cond.firstIndex(of: ":"), cond[cond.index(after: colon)...].first == " " || cond.contains(": ") else {
                throw .invalid(member: "alertWhen", "'\(cond)': expected 'NAME: METRIC OP VALUE', e.g. 'Disconnected_5m: aws:disconnect-duration >= 5'")
            }
            let nameEnd = cond.range(of: ": ")!.lowerBound
            let name = String(cond[..<nameEnd]).trimmingSpaces
            let words = cond[cond.range(of: ": ")!.upperBound...].split(separator: " ").map(String.init)
            guard words.count >= 3 else { throw .invalid(member: "alertWhen", "'\(cond)': expected METRIC OP VALUE after the name") }
            let metric = words[0], op = words[1]
            guard let value = Int64(words[2]), value >= 0 else { throw .invalid(member: "alertWhen", "'\(cond)': '\(words[2])' is not a whole number") }
            let aws: String
            switch op {
            case ">": aws = "less-than-equals"
            case ">=": aws = "less-than"
            case "<": aws = "greater-than-equals"
            case "<=": aws = "greater-than"
            default: throw .invalid(member: "alertWhen", "'\(cond)': '\(op)' is not one of >, >=, <, <=")
            }
            var toAlarm: Int64 = 1, toClear: Int64 = 1
            var rest = Array(words.dropFirst(3))
            while !rest.isEmpty {
                if rest.count >= 3, rest[0] == "for", let n = Int64(rest[1]), rest[2].hasPrefix("datapoint") {
                    toAlarm = n; rest.removeFirst(3)
                } else if rest.count >= 3, rest[0] == "clear", rest[1] == "after", let n = Int64(rest[2]) {
                    toClear = n; rest.removeFirst(rest.count >= 4 && rest[3].hasPrefix("datapoint") ? 4 : 3)
                } else {
                    throw .invalid(member: "alertWhen", "'\(cond)': cannot read '\(rest.joined(separator: " "))' (expected 'for N datapoints' or 'clear after M')")
                }
            }
            out.append(jsonObject([
                ("name", .string(name)),
                ("metric", .string(metric)),
                ("criteria", jsonObject([
                    ("comparisonOperator", .string(aws)),
                    ("value", jsonObject([("count", .int(value))])),
                    ("consecutiveDatapointsToAlarm", .int(toAlarm)),
                    ("consecutiveDatapointsToClear", .int(toClear)),
                ])),
                ("suppressAlerts", .bool(false)),
            ]))
        }
        guard !out.isEmpty else { throw .invalid(member: "alertWhen", "holds no condition") }
        return .array(out)
    }

    /// The alert condition in words, e.g. `aws:disconnect-duration >= 5`.
    public var alertCondition: String {
        let op = switch comparisonOperator {
        case "less-than": ">="
        case "less-than-equals": ">"
        case "greater-than": "<="
        default: "<"
        }
        return "\(metric) \(op) \(JSONValue.double(threshold).compact)"
    }
}
