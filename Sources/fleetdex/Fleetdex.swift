// fleetdex: the command line. Flags become a request, the engine (FleetIndex) answers,
// and the response is printed. Nothing about an operation lives here.
import ArgumentParser
import FleetIndex
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
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            let code = Fleetdex.exitCode(for: error)
            if code == .success { Fleetdex.exit(withError: error) }
            if code.rawValue == 64 || error is ValidationError {
                let message = Fleetdex.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                FileHandle.standardError.write(Data("fleetdex: UsageError: \(message)\n(see 'fleetdex --help' or 'fleetdex COMMAND --help')\n".utf8))
                exit(64)
            }
            FileHandle.standardError.write(Data("fleetdex: InternalFailureException: \(error)\n".utf8))
            exit(1)
        }
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
            // devices: certificates, thing principals, policies, the database's CA
            CreateKeysAndCertificate.self, CreateCertificateFromCsr.self, RegisterCertificateWithoutCA.self, DescribeCertificate.self, ListCertificates.self, UpdateCertificate.self, DeleteCertificate.self, AttachThingPrincipal.self, DetachThingPrincipal.self, ListThingPrincipals.self, ListPrincipalThings.self, CreatePolicy.self, GetPolicy.self, ListPolicies.self, DeletePolicy.self, CreatePolicyVersion.self, ListPolicyVersions.self, GetPolicyVersion.self, SetDefaultPolicyVersion.self, DeletePolicyVersion.self, AttachPolicy.self, DetachPolicy.self, ListAttachedPolicies.self, ListTargetsForPolicy.self, TestAuthorization.self, GetRootCA.self,
            // the walkthrough
            Demo.self,
        ]
    )
}
