// fleetdex: Detect mitigation actions and tasks.
import ArgumentParser
import FleetIndex

struct CreateMitigationAction: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-mitigation-action", abstract: "Define a mitigation action (Detect runs ADD_THINGS_TO_THING_GROUP).",
        discussion: example(#"fleetdex create-mitigation-action --action-name quarantine --role-arn arn:aws:iam::123456789012:role/m --action-params '{"addThingsToThingGroupParams":{"thingGroupNames":["Quarantine"],"overrideDynamicGroups":true}}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var actionName: String
    @Option var roleArn: String
    @Option var actionParams: String
    @Option var tags: String?
    func run() throws {
        Output.emit(try Mitigation(try g.open()).createAction(name: actionName, roleARN: roleArn, params: try structured(actionParams, "--action-params"), at: try g.now()),
                    try g.format())
    }
}

struct DescribeMitigationAction: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-mitigation-action", abstract: "Describe a mitigation action.",
        discussion: example("fleetdex describe-mitigation-action --action-name quarantine"))
    @OptionGroup var g: GlobalOptions
    @Option var actionName: String
    func run() throws { Output.emit(try Mitigation(try g.open()).describeAction(name: actionName), try g.format()) }
}

struct ListMitigationActions: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-mitigation-actions", abstract: "List mitigation actions.",
        discussion: example("fleetdex list-mitigation-actions --action-type ADD_THINGS_TO_THING_GROUP"))
    @OptionGroup var g: GlobalOptions
    @Option var actionType: String?
    func run() throws { Output.emit(try Mitigation(try g.open()).listActions(type: actionType), try g.format()) }
}

struct DeleteMitigationAction: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-mitigation-action", abstract: "Delete a mitigation action.",
        discussion: example("fleetdex delete-mitigation-action --action-name quarantine"))
    @OptionGroup var g: GlobalOptions
    @Option var actionName: String
    func run() throws { Output.emit(try Mitigation(try g.open()).deleteAction(name: actionName), try g.format()) }
}

struct StartDetectMitigationActionsTask: ParsableCommand {
    static let configuration = CommandConfiguration(command: "start-detect-mitigation-actions-task", abstract: "Run mitigation actions on chosen violations.",
        discussion: example(#"fleetdex start-detect-mitigation-actions-task --task-id t1 --target '{"securityProfileName":"Lost_30d","behaviorName":"Lost_30d"}' --actions quarantine --include-only-active-violations"#))
    @OptionGroup var g: GlobalOptions
    @Option var taskId: String
    @Option var target: String
    @Option(parsing: .upToNextOption) var actions: [String]
    @Option var violationEventOccurrenceRange: String?
    @Flag(inversion: .prefixedNo) var includeOnlyActiveViolations = false
    @Flag(inversion: .prefixedNo) var includeSuppressedAlerts = false
    @Option var clientRequestToken: String?
    func run() throws {
        Output.emit(try Mitigation(try g.open()).startTask(taskId: taskId, target: try structured(target, "--target"), actions: actions,
                                                          range: try violationEventOccurrenceRange.map { try structured($0, "--violation-event-occurrence-range") },
                                                          onlyActive: includeOnlyActiveViolations, includeSuppressed: includeSuppressedAlerts, at: try g.now()),
                    try g.format())
    }
}

struct ListDetectMitigationActionsExecutions: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-detect-mitigation-actions-executions", abstract: "List the executions of mitigation tasks.",
        discussion: example("fleetdex list-detect-mitigation-actions-executions --task-id t1"))
    @OptionGroup var g: GlobalOptions
    @Option var taskId: String?
    @Option var violationId: String?
    @Option var thingName: String?
    @Option(help: ArgumentHelp("From this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var startTime: String?
    @Option(help: ArgumentHelp("Up to this time: \(timeFormats).", valueName: "time"), transform: checkedTime) var endTime: String?
    func run() throws {
        Output.emit(try Mitigation(try g.open()).listExecutions(taskId: taskId, violationId: violationId, thingName: thingName,
                                                               start: try startTime.map { try time($0, "--start-time") }, end: try endTime.map { try time($0, "--end-time") }),
                    try g.format())
    }
}

struct DescribeDetectMitigationActionsTask: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-detect-mitigation-actions-task", abstract: "Describe a mitigation task and its statistics.",
        discussion: example("fleetdex describe-detect-mitigation-actions-task --task-id t1"))
    @OptionGroup var g: GlobalOptions
    @Option var taskId: String
    func run() throws { Output.emit(try Mitigation(try g.open()).describeTask(taskId: taskId), try g.format()) }
}
