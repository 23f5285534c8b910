// fleetdex: the command line. Flags become a request, the engine (FleetIndex) answers,
// and the response is printed. Nothing about an operation lives here.
import ArgumentParser
import FleetIndex
import FleetSQLite
import Foundation

@main
struct Main {
    static func main() {
        do {
            var command = try Fleetdex.parseAsRoot()
            try command.run()
        } catch let e as FleetError {
            Output.fail(e)
        } catch let e as JSONError {
            Output.fail(FleetError(.invalidRequest, "malformed JSON: \(e)"))
        } catch let e as SQLiteError {
            // The database could not be opened or SQLite failed: its message names the path
            // and the cause; the statement, when there is one, follows.
            Output.error("InternalFailureException", e.sql == nil ? e.message : e.description)
            exit(1)
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            let code = Fleetdex.exitCode(for: error)
            if code == .success { Fleetdex.exit(withError: error) }
            if code.rawValue == 64 || error is ValidationError {
                Output.error("UsageError", usageMessage(Fleetdex.message(for: error)), hint: "(see 'fleetdex --help' or 'fleetdex COMMAND --help')")
                exit(64)
            }
            Output.error("InternalFailureException", "\(error)")
            exit(1)
        }
    }

    /// The argument parser's message on one line: a list of values under it ("  - json")
    /// is folded into the line.
    static func usageMessage(_ text: String) -> String {
        let lines = text.split(separator: "\n").map(String.init)
        guard var message = lines.first else { return text }
        let values = lines.dropFirst().filter { $0.hasPrefix("  - ") }.map { $0.dropFirst(4) }
        if !values.isEmpty { message += " " + values.joined(separator: ", ") }
        return message
    }
}

struct Fleetdex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleetdex",
        abstract: "AWS IoT fleet indexing and Device Defender Detect, self-contained over SQLite.",
        discussion: """
            AWS operations take the `aws iot` names, flags and JSON output; fleetdex's own commands \
            ingest lifecycle events, evaluate, search, save queries and report on groups.

            Example:
              fleetdex create-thing --thing-name pump-17 --attribute-payload '{"attributes":{"site":"denver"}}'
              fleetdex search 'attributes.site:denver AND connectivity.connected:false' --output table
            """,
        subcommands: [
            // registry
            CreateThing.self, DescribeThing.self, UpdateThing.self, DeleteThing.self, ListThings.self,
            CreateThingType.self, DescribeThingType.self, ListThingTypes.self, DeprecateThingType.self, DeleteThingType.self,
            CreateThingGroup.self, DescribeThingGroup.self, UpdateThingGroup.self, ListThingGroups.self, DeleteThingGroup.self,
            AddThingToThingGroup.self, RemoveThingFromThingGroup.self, ListThingsInThingGroup.self, ListThingGroupsForThing.self,
            UpdateThingShadow.self, GetThingShadow.self, DeleteThingShadow.self, ImportThings.self,
            // fleet index
            SearchIndex.self, Search.self, Queries.self, GetStatistics.self, GetCardinality.self, GetPercentiles.self, GetBucketsAggregation.self,
            UpdateIndexingConfiguration.self, GetIndexingConfiguration.self, DescribeIndex.self, ListIndices.self,
            // dynamic groups
            CreateDynamicThingGroup.self, UpdateDynamicThingGroup.self, DeleteDynamicThingGroup.self, GroupReport.self,
            // presence
            IngestEvents.self, Connect.self, Disconnect.self, Run.self,
            // defender
            CreateSecurityProfile.self, UpdateSecurityProfile.self, DescribeSecurityProfile.self, DeleteSecurityProfile.self,
            ListSecurityProfiles.self, AttachSecurityProfile.self, DetachSecurityProfile.self, ListTargetsForSecurityProfile.self,
            ListSecurityProfilesForTarget.self, ValidateSecurityProfileBehaviors.self, ListActiveViolations.self,
            ListViolationEvents.self, PutVerificationStateOnViolation.self, ListMetricValues.self, Evaluate.self,
            // mitigation
            CreateMitigationAction.self, DescribeMitigationAction.self, ListMitigationActions.self, DeleteMitigationAction.self,
            StartDetectMitigationActionsTask.self, ListDetectMitigationActionsExecutions.self, DescribeDetectMitigationActionsTask.self,
            // notifications
            SNS.self, SQS.self,
            // the walkthrough
            Demo.self,
        ]
    )
}
