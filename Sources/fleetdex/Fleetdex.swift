// fleetdex: the command line. Flags become a request, the engine (FleetIndex) answers,
// and the response is printed. Nothing about an operation lives here.
import ArgumentParser
import FleetIndex
import FleetSQLite
import Foundation

@main
struct Main {
    static func main() {
        let args = Fleetdex.withGlobalOptionsAfterCommand(Array(CommandLine.arguments.dropFirst()))
        if args.first == "serve" { Serve.exec(Array(args.dropFirst())) }
        do {
            let args = try Fleetdex.withoutServicePrefix(args)
            // The command named is parsed on its own where it can be (a tenth of a search's
            // whole-process time is the parser building the tree of every command); anything
            // it does not take (help, a bad flag, a completion script) goes through the whole
            // tree, for the same answer as ever. Help always goes through the whole tree: parsed
            // alone, a command's usage would lose the group above it (`fleetdex sns …`).
            let asksForHelp = args.contains { ["-h", "--help", "-help"].contains($0) }
            var command = try (asksForHelp ? nil : Fleetdex.namedCommand(args)).flatMap { named in try? named.command.parseAsRoot(named.arguments) }
                ?? Fleetdex.parseAsRoot(args)
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
    /// is folded into the line, and an unknown option gets how to pass a value that starts
    /// with a dash.
    static func usageMessage(_ text: String) -> String {
        let lines = text.split(separator: "\n").map(String.init)
        guard var message = lines.first else { return text }
        let values = lines.dropFirst().filter { $0.hasPrefix("  - ") }.map { $0.dropFirst(4) }
        if !values.isEmpty { message += " " + values.joined(separator: ", ") }
        if message.hasPrefix("Unknown option '-") {
            message += " (a value that starts with '-' is written --flag=VALUE, or after '--' as an argument)"
        }
        return message
    }
}

extension CommandConfiguration {
    /// A command of fleetdex's (every one but the root), with `fleetdex` as the name of the
    /// command above it. Parsed on its own (`Fleetdex.namedCommand`), it then skips the root's
    /// look for `--generate-completion-script` (a third of the parser's time) and says
    /// `fleetdex NAME` in its usage; under the root it is never the first command, and that
    /// name is not read (help is always asked of the whole tree, so a command under a group
    /// still says `fleetdex GROUP NAME`).
    init(command name: String, abstract: String, discussion: String = "", subcommands: [ParsableCommand.Type] = []) {
        self.init(commandName: name, _superCommandName: "fleetdex", abstract: abstract, discussion: discussion, subcommands: subcommands)
    }
}

extension Fleetdex {
    /// The command (one with no subcommands of its own) that `args` names, found by the names
    /// in the commands' configurations, and the arguments after its name; nil when `args`
    /// names none (an option first, `help`, a group alone, a name that is no command).
    static func namedCommand(_ args: [String]) -> (command: ParsableCommand.Type, arguments: [String])? {
        var command: ParsableCommand.Type = Fleetdex.self
        var i = 0
        while !command.configuration.subcommands.isEmpty {
            guard i < args.count, let next = command.configuration.subcommands.first(where: {
                $0.configuration.commandName == args[i] || $0.configuration.aliases.contains(args[i])
            }) else { return nil }
            command = next
            i += 1
        }
        return i == 0 ? nil : (command, Array(args[i...]))
    }

    /// The options every command takes, which may also come before the command:
    /// `fleetdex --db fleet.sqlite search …` is `fleetdex search … --db fleet.sqlite`.
    static let globalOptions: Set<String> = ["--db", "--output", "--at", "--queries"]

    /// The arguments with leading global options moved after the command's own arguments
    /// (before a `--`, so they stay options).
    static func withGlobalOptionsAfterCommand(_ args: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            guard globalOptions.contains(name) else { break }
            if a.contains("=") {
                leading.append(a)
                i += 1
            } else {
                guard i + 1 < args.count else { break }   // no value: the parser says so
                leading += [a, args[i + 1]]
                i += 2
            }
        }
        guard !leading.isEmpty, i < args.count else { return args }
        var rest = Array(args[i...])
        rest.insert(contentsOf: leading, at: rest.firstIndex(of: "--") ?? rest.count)
        return rest
    }

    /// The iot-data operations fleetdex runs (`fleetdex iot-data get-thing-shadow …`).
    static let iotDataCommands = ["update-thing-shadow", "get-thing-shadow", "delete-thing-shadow"]

    /// The arguments without a leading service name: `fleetdex iot create-thing …` is
    /// `fleetdex create-thing …`, as `aws iot create-thing …` is, and `fleetdex iot-data
    /// get-thing-shadow …` is `fleetdex get-thing-shadow …`. (`sns` and `sqs` are commands
    /// of their own.)
    static func withoutServicePrefix(_ args: [String]) throws -> [String] {
        guard let service = args.first, service == "iot" || service == "iot-data" else { return args }
        let rest = Array(args.dropFirst())
        guard let command = rest.first, !command.hasPrefix("-") else { return rest }
        if ["iot", "iot-data", "sns", "sqs"].contains(command) {
            throw ValidationError("'\(service) \(command)': write 'fleetdex \(command) …' (\(command) is a service of its own)")
        }
        if service == "iot-data" && !iotDataCommands.contains(command) && command != "help" {
            throw ValidationError("fleetdex iot-data runs \(iotDataCommands.joined(separator: ", ")); '\(command)' is not one of them")
        }
        return rest
    }
}

struct Fleetdex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleetdex",
        abstract: "AWS IoT fleet indexing and Device Defender Detect, self-contained over SQLite.",
        discussion: """
            AWS operations take the `aws iot` names, flags and JSON output; fleetdex's own commands \
            ingest lifecycle events, evaluate, search, save queries and report on groups. \
            A leading `iot` is optional (`fleetdex iot create-thing …` runs create-thing, so an \
            `aws iot` command line works with `aws` replaced by `fleetdex`); `iot-data` may lead \
            update-thing-shadow, get-thing-shadow and delete-thing-shadow.

            Example:
              fleetdex create-thing --thing-name pump-17 --attribute-payload '{"attributes":{"site":"denver"}}'
              fleetdex search 'attributes.site:denver AND connectivity.connected:false' --output table
            """,
        version: FleetVersion.string,
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
            IngestEvents.self, Connect.self, Disconnect.self, Run.self, PresenceDestination.self,
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
            // the AWS API on the wire
            Serve.self,
            // devices: certificates, thing principals, policies, the database's CA
            CreateKeysAndCertificate.self, CreateCertificateFromCsr.self, RegisterCertificateWithoutCA.self, DescribeCertificate.self, ListCertificates.self, UpdateCertificate.self, DeleteCertificate.self, AttachThingPrincipal.self, DetachThingPrincipal.self, ListThingPrincipals.self, ListPrincipalThings.self, CreatePolicy.self, GetPolicy.self, ListPolicies.self, DeletePolicy.self, CreatePolicyVersion.self, ListPolicyVersions.self, GetPolicyVersion.self, SetDefaultPolicyVersion.self, DeletePolicyVersion.self, AttachPolicy.self, DetachPolicy.self, ListAttachedPolicies.self, ListTargetsForPolicy.self, TestAuthorization.self, GetRootCA.self,
            // the walkthrough
            Demo.self,
        ]
    )
}
