// fleetdex: Device Defender Detect operations and the evaluation cycle.
import ArgumentParser
import FleetIndex
import Foundation

/// The structured flags of create- and update-security-profile, parsed.
struct ProfileFlags {
    var behaviors: JSONValue?
    var alertTargets: JSONValue?
    var additionalMetrics: JSONValue?

    init(behaviors: String?, alertWhen: String?, alertTargets: String?, additionalMetrics: String?) throws {
        if behaviors != nil && alertWhen != nil { throw ValidationError("give --behaviors or --alert-when, not both") }
        self.behaviors = try alertWhen.map { try Behavior.alertWhen($0) } ?? behaviors.map { try structured($0, "--behaviors") }
        self.alertTargets = try alertTargets.map { try structured($0, "--alert-targets") }
        self.additionalMetrics = try additionalMetrics.map { try structured($0, "--additional-metrics-to-retain-v2") }
    }
}

struct CreateSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-security-profile", abstract: "Create a security profile.",
        discussion: example(#"fleetdex create-security-profile --security-profile-name Disconnect_duration_5m --behaviors '[{"name":"Disconnected_5m","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"less-than","value":{"count":5},"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]'"#,
                            "fleetdex create-security-profile --security-profile-name Lost_30d --alert-when 'Lost_30d: aws:disconnect-duration >= 43200'"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    @Option var securityProfileDescription: String?
    @Option(help: "AWS behaviors (criteria state normal behaviour): JSON or file://.") var behaviors: String?
    @Option(help: "The alert form: 'NAME: METRIC OP VALUE [for N datapoints] [clear after M]'; several separated by ';'.") var alertWhen: String?
    @Option var alertTargets: String?
    @Option var additionalMetricsToRetainV2: String?
    @Option var tags: String?
    func run() throws {
        let f = try ProfileFlags(behaviors: behaviors, alertWhen: alertWhen, alertTargets: alertTargets, additionalMetrics: additionalMetricsToRetainV2)
        Output.emit(try Defender(try g.open()).createSecurityProfile(name: securityProfileName, description: securityProfileDescription, behaviors: f.behaviors,
                                                                     alertTargets: f.alertTargets, additionalMetrics: f.additionalMetrics, at: try g.now()),
                    try g.format())
    }
}

struct UpdateSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-security-profile", abstract: "Update a security profile (changed behaviors invalidate their violations).",
        discussion: example("fleetdex update-security-profile --security-profile-name Lost_30d --alert-when 'Lost_30d: aws:disconnect-duration >= 20160'"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    @Option var securityProfileDescription: String?
    @Option var behaviors: String?
    @Option var alertWhen: String?
    @Option var alertTargets: String?
    @Option var additionalMetricsToRetainV2: String?
    @Flag var deleteBehaviors = false
    @Flag var deleteAlertTargets = false
    @Flag var deleteAdditionalMetricsToRetain = false
    @Option var expectedVersion: Int64?
    func run() throws {
        let f = try ProfileFlags(behaviors: behaviors, alertWhen: alertWhen, alertTargets: alertTargets, additionalMetrics: additionalMetricsToRetainV2)
        Output.emit(try Defender(try g.open()).updateSecurityProfile(name: securityProfileName, description: securityProfileDescription, behaviors: f.behaviors,
                                                           alertTargets: f.alertTargets, additionalMetrics: f.additionalMetrics,
                                                           deleteBehaviors: deleteBehaviors, deleteAlertTargets: deleteAlertTargets,
                                                           deleteAdditionalMetrics: deleteAdditionalMetricsToRetain, expectedVersion: expectedVersion,
                                                           at: try g.now()), try g.format())
    }
}

struct DescribeSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-security-profile", abstract: "Describe a security profile (the table output adds each alert condition in words).",
        discussion: example("fleetdex describe-security-profile --security-profile-name Disconnect_duration_5m"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    func run() throws {
        let r = try Defender(try g.open()).describeSecurityProfile(name: securityProfileName)
        let format = try g.format()
        Output.emit(r, format)
        if format == .table, let list = r["behaviors"] {
            for b in Behavior.parseList(list).behaviors {
                Output.write("\(b.name): alert when \(b.alertCondition) for \(b.consecutiveDatapointsToAlarm) datapoint(s), clear after \(b.consecutiveDatapointsToClear)\n")
            }
        }
    }
}

struct DeleteSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-security-profile", abstract: "Delete a security profile (its violations are invalidated).",
        discussion: example("fleetdex delete-security-profile --security-profile-name Lost_30d"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    @Option var expectedVersion: Int64?
    func run() throws {
        Output.emit(try Defender(try g.open()).deleteSecurityProfile(name: securityProfileName, expectedVersion: expectedVersion, at: try g.now()), try g.format())
    }
}

struct ListSecurityProfiles: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-security-profiles", abstract: "List security profiles.", discussion: example("fleetdex list-security-profiles"))
    @OptionGroup var g: GlobalOptions
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws { Output.emit(try Defender(try g.open()).listSecurityProfiles(maxResults: maxResults, nextToken: nextToken), try g.format()) }
}

struct AttachSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "attach-security-profile", abstract: "Attach a profile to all things, registered or unregistered things, or a thing group.",
        discussion: example("fleetdex attach-security-profile --security-profile-name Disconnect_duration_5m --security-profile-target-arn arn:aws:iot:us-east-1:123456789012:all/things"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    @Option var securityProfileTargetArn: String
    func run() throws { Output.emit(try Defender(try g.open()).attachSecurityProfile(name: securityProfileName, targetARN: securityProfileTargetArn), try g.format()) }
}

struct DetachSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "detach-security-profile", abstract: "Detach a profile from a target.",
        discussion: example("fleetdex detach-security-profile --security-profile-name Lost_30d --security-profile-target-arn arn:aws:iot:us-east-1:123456789012:all/things"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    @Option var securityProfileTargetArn: String
    func run() throws {
        Output.emit(try Defender(try g.open()).detachSecurityProfile(name: securityProfileName, targetARN: securityProfileTargetArn, at: try g.now()), try g.format())
    }
}

struct ListTargetsForSecurityProfile: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-targets-for-security-profile", abstract: "List a profile's targets.",
        discussion: example("fleetdex list-targets-for-security-profile --security-profile-name Disconnect_duration_5m"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileName: String
    func run() throws { Output.emit(try Defender(try g.open()).listTargetsForSecurityProfile(name: securityProfileName), try g.format()) }
}

struct ListSecurityProfilesForTarget: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-security-profiles-for-target", abstract: "List the profiles attached to a target.",
        discussion: example("fleetdex list-security-profiles-for-target --security-profile-target-arn arn:aws:iot:us-east-1:123456789012:all/things"))
    @OptionGroup var g: GlobalOptions
    @Option var securityProfileTargetArn: String
    @Flag var recursive = false
    func run() throws {
        Output.emit(try Defender(try g.open()).listSecurityProfilesForTarget(targetARN: securityProfileTargetArn, recursive: recursive), try g.format())
    }
}

struct ValidateSecurityProfileBehaviors: ParsableCommand {
    static let configuration = CommandConfiguration(command: "validate-security-profile-behaviors", abstract: "Check behaviors; every problem is reported.",
        discussion: example(#"fleetdex validate-security-profile-behaviors --behaviors file://behaviors.json"#))
    @OptionGroup var g: GlobalOptions
    @Option var behaviors: String
    func run() throws { Output.emit(Defender(try g.open()).validateBehaviors(try structured(behaviors, "--behaviors")), try g.format()) }
}

struct ListActiveViolations: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-active-violations", abstract: "List the violations in alarm.",
        discussion: example("fleetdex list-active-violations --security-profile-name Disconnect_duration_5m"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String?
    @Option var securityProfileName: String?
    @Option var behaviorCriteriaType: String?
    @Flag var listSuppressedAlerts = false
    @Option var verificationState: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Defender(try g.open()).listActiveViolations(thingName: thingName, profile: securityProfileName, criteriaType: behaviorCriteriaType,
                                                                    verificationState: verificationState, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct ListViolationEvents: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-violation-events", abstract: "List in-alarm, alarm-cleared and alarm-invalidated events in a time range.",
        discussion: example("fleetdex list-violation-events --start-time 2026-11-28T10:00:00Z --end-time 2026-11-28T11:00:00Z"))
    @OptionGroup var g: GlobalOptions
    @Option(help: ArgumentHelp("From this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var startTime: String
    @Option(help: ArgumentHelp("Up to this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var endTime: String
    @Option var thingName: String?
    @Option var securityProfileName: String?
    @Option var behaviorCriteriaType: String?
    @Flag var listSuppressedAlerts = false
    @Option var verificationState: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Defender(try g.open()).listViolationEvents(start: try time(startTime, "--start-time"), end: try time(endTime, "--end-time"),
                                                                   thingName: thingName, profile: securityProfileName, criteriaType: behaviorCriteriaType,
                                                                   verificationState: verificationState, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct PutVerificationStateOnViolation: ParsableCommand {
    static let configuration = CommandConfiguration(command: "put-verification-state-on-violation", abstract: "Mark a violation as a true or false positive.",
        discussion: example("fleetdex put-verification-state-on-violation --violation-id 0123456789abcdef0123456789abcdef --verification-state BENIGN_POSITIVE"))
    @OptionGroup var g: GlobalOptions
    @Option var violationId: String
    @Option var verificationState: String
    @Option var verificationStateDescription: String?
    func run() throws {
        Output.emit(try Defender(try g.open()).putVerificationState(violationId: violationId, state: verificationState, description: verificationStateDescription), try g.format())
    }
}

struct ListMetricValues: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-metric-values", abstract: "A thing's datapoints of a metric at each evaluated tick (--output chart draws them).",
        discussion: example("fleetdex list-metric-values --thing-name test_thing --metric-name aws:disconnect-duration --start-time 2026-11-28T10:00:00Z --end-time 2026-11-28T10:30:00Z"))
    @OptionGroup var g: Options<ChartFormats>
    @Option var thingName: String
    @Option var metricName: String
    @Option(help: ArgumentHelp("From this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var startTime: String
    @Option(help: ArgumentHelp("Up to this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var endTime: String
    @Option var dimensionName: String?
    @Option var dimensionValueOperator: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        let format = try g.format(allowed: [.json, .table, .text, .chart])
        let r = try Defender(try g.open()).listMetricValues(thingName: thingName, metric: metricName, start: try time(startTime, "--start-time"),
                                                            end: try time(endTime, "--end-time"), dimension: dimensionName, maxResults: maxResults, nextToken: nextToken)
        if format == .chart {
            let points = (r["metricDatumList"]?.arrayValue ?? []).compactMap { d -> (String, Double)? in
                guard let t = d["timestamp"]?.stringValue, let v = d["value"]?["count"]?.doubleValue else { return nil }
                return (t, v)
            }
            Output.write(Chart.render(points, title: "\(metricName) of \(thingName)"))
        } else {
            Output.emit(r, format)
        }
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(command: "evaluate",
        abstract: "Run the evaluation cycle: every 5-minute tick since the last one, up to --at; then refresh dynamic groups.",
        discussion: example("fleetdex evaluate --at 2026-11-28T10:10:00Z"))
    @OptionGroup var g: GlobalOptions
    @Option(help: ArgumentHelp("Start from this tick on a database that has not evaluated it yet: \(timeFormats).", valueName: "time"), transform: checkedTime) var since: String?
    func run() throws {
        let db = try g.open()
        let now = try g.now()
        let r = try EvaluationCycle(db).evaluate(at: now, since: try since.map { try time($0, "--since") })
        // Webhook deliveries were committed with their events; send what is due now.
        let w = try WebhookDelivery(db).deliverDue(at: now)
        var report = r.json.objectValue ?? []
        if w.delivered + w.failed > 0 {
            report.append(JSONMember("webhooksDelivered", .int(w.delivered)))
            report.append(JSONMember("webhooksToRetry", .int(w.failed)))
        }
        Output.emit(.object(report), try g.format())
    }
}
