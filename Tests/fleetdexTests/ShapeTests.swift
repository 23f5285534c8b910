// Every operation's JSON output checked against the botocore model's output shape with
// ../shared/tools/awsshape.py (keys, required members, types, enums).
import Foundation
import Testing

@Suite struct ShapeTests {
    static let awsshape = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/tools/awsshape.py")

    func check(_ json: String, _ service: String, _ operation: String) throws -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.awsshape.path, service, operation]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(Data((json.isEmpty ? "{}" : json).utf8))
        try input.fileHandleForWriting.close()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : out
    }

    @Test func everyOperationFitsItsShape() throws {
        #expect(FileManager.default.fileExists(atPath: Self.awsshape.path), "awsshape.py not found at \(Self.awsshape.path)")
        let cli = try CLI()
        let at = ["--at", "2026-11-28T10:00:00Z"]
        let acct = "123456789012"
        let steps: [([String], String, String)] = [
            (["create-thing-type", "--thing-type-name", "Pump"], "iot", "CreateThingType"),
            (["describe-thing-type", "--thing-type-name", "Pump"], "iot", "DescribeThingType"),
            (["list-thing-types"], "iot", "ListThingTypes"),
            (["create-thing", "--thing-name", "p1", "--thing-type-name", "Pump", "--attribute-payload", #"{"attributes":{"site":"denver"}}"#], "iot", "CreateThing"),
            (["describe-thing", "--thing-name", "p1"], "iot", "DescribeThing"),
            (["update-thing", "--thing-name", "p1", "--attribute-payload", #"{"attributes":{"rack":"r1"},"merge":true}"#], "iot", "UpdateThing"),
            (["list-things"], "iot", "ListThings"),
            (["create-thing-group", "--thing-group-name", "plant"], "iot", "CreateThingGroup"),
            (["create-thing-group", "--thing-group-name", "line", "--parent-group-name", "plant"], "iot", "CreateThingGroup"),
            (["describe-thing-group", "--thing-group-name", "line"], "iot", "DescribeThingGroup"),
            (["update-thing-group", "--thing-group-name", "line", "--thing-group-properties", #"{"thingGroupDescription":"line one"}"#], "iot", "UpdateThingGroup"),
            (["list-thing-groups"], "iot", "ListThingGroups"),
            (["add-thing-to-thing-group", "--thing-group-name", "line", "--thing-name", "p1"], "iot", "AddThingToThingGroup"),
            (["list-things-in-thing-group", "--thing-group-name", "plant", "--recursive"], "iot", "ListThingsInThingGroup"),
            (["list-thing-groups-for-thing", "--thing-name", "p1"], "iot", "ListThingGroupsForThing"),
            (["update-indexing-configuration", "--thing-indexing-configuration", #"{"thingIndexingMode":"REGISTRY_AND_SHADOW","thingConnectivityIndexingMode":"STATUS","deviceDefenderIndexingMode":"VIOLATIONS","namedShadowIndexingMode":"ON"}"#], "iot", "UpdateIndexingConfiguration"),
            (["get-indexing-configuration"], "iot", "GetIndexingConfiguration"),
            (["describe-index", "--index-name", "AWS_Things"], "iot", "DescribeIndex"),
            (["list-indices"], "iot", "ListIndices"),
            (["sns", "create-topic", "--name", "T"], "sns", "CreateTopic"),
            (["sns", "list-topics"], "sns", "ListTopics"),
            (["sqs", "create-queue", "--queue-name", "Q"], "sqs", "CreateQueue"),
            (["sqs", "list-queues"], "sqs", "ListQueues"),
            (["sqs", "get-queue-attributes", "--queue-url", "Q", "--attribute-names", "All"], "sqs", "GetQueueAttributes"),
            (["sns", "subscribe", "--topic-arn", "arn:aws:sns:us-east-1:\(acct):T", "--protocol", "sqs", "--notification-endpoint", "arn:aws:sqs:us-east-1:\(acct):Q"], "sns", "Subscribe"),
            (["sns", "list-subscriptions"], "sns", "ListSubscriptions"),
            (["create-security-profile", "--security-profile-name", "P", "--alert-when", "B: aws:disconnect-duration >= 5",
              "--alert-targets", #"{"SNS":{"alertTargetArn":"arn:aws:sns:us-east-1:123456789012:T","roleArn":"arn:aws:iam::123456789012:role/r"}}"#], "iot", "CreateSecurityProfile"),
            (["describe-security-profile", "--security-profile-name", "P"], "iot", "DescribeSecurityProfile"),
            (["update-security-profile", "--security-profile-name", "P", "--security-profile-description", "five minutes"], "iot", "UpdateSecurityProfile"),
            (["list-security-profiles"], "iot", "ListSecurityProfiles"),
            (["attach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:\(acct):all/things"], "iot", "AttachSecurityProfile"),
            (["list-targets-for-security-profile", "--security-profile-name", "P"], "iot", "ListTargetsForSecurityProfile"),
            (["list-security-profiles-for-target", "--security-profile-target-arn", "arn:aws:iot:us-east-1:\(acct):all/things"], "iot", "ListSecurityProfilesForTarget"),
            (["validate-security-profile-behaviors", "--behaviors", #"[{"name":"x","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"greater-than","value":{"count":1}}}]"#], "iot", "ValidateSecurityProfileBehaviors"),
            (["connect", "--thing-name", "p1", "--at", "2026-11-28T10:00:20Z"], "", ""),
            (["disconnect", "--thing-name", "p1", "--at", "2026-11-28T10:01:20Z"], "", ""),
            (["evaluate", "--at", "2026-11-28T10:05:00Z"], "", ""),
            (["evaluate", "--at", "2026-11-28T10:10:00Z"], "", ""),
            (["search-index", "--query-string", "*"] + at, "iot", "SearchIndex"),
            (["list-active-violations"], "iot", "ListActiveViolations"),
            (["list-violation-events", "--start-time", "2026-11-28T10:00:00Z", "--end-time", "2026-11-28T11:00:00Z"], "iot", "ListViolationEvents"),
            (["list-metric-values", "--thing-name", "p1", "--metric-name", "aws:disconnect-duration", "--start-time", "2026-11-28T10:00:00Z", "--end-time", "2026-11-28T10:30:00Z"], "iot", "ListMetricValues"),
            (["sqs", "receive-message", "--queue-url", "Q", "--max-number-of-messages", "10", "--at", "2026-11-28T10:10:05Z"], "sqs", "ReceiveMessage"),
            (["get-statistics", "--query-string", "*", "--aggregation-field", "connectivity.connected"], "iot", "GetStatistics"),
            (["get-cardinality", "--query-string", "*", "--aggregation-field", "attributes.site"], "iot", "GetCardinality"),
            (["get-percentiles", "--query-string", "*", "--aggregation-field", "connectivity.timestamp"], "iot", "GetPercentiles"),
            (["get-buckets-aggregation", "--query-string", "*", "--aggregation-field", "attributes.site", "--buckets-aggregation-type", #"{"termsAggregation":{"maxBuckets":5}}"#], "iot", "GetBucketsAggregation"),
            (["create-dynamic-thing-group", "--thing-group-name", "D", "--query-string", "deviceDefender.P.*.inViolation:true"], "iot", "CreateDynamicThingGroup"),
            (["update-dynamic-thing-group", "--thing-group-name", "D", "--query-string", "connectivity.connected:false"], "iot", "UpdateDynamicThingGroup"),
            (["describe-thing-group", "--thing-group-name", "D"], "iot", "DescribeThingGroup"),
            (["create-mitigation-action", "--action-name", "q", "--role-arn", "arn:aws:iam::\(acct):role/m", "--action-params", #"{"addThingsToThingGroupParams":{"thingGroupNames":["plant"]}}"#], "iot", "CreateMitigationAction"),
            (["describe-mitigation-action", "--action-name", "q"], "iot", "DescribeMitigationAction"),
            (["list-mitigation-actions"], "iot", "ListMitigationActions"),
            (["start-detect-mitigation-actions-task", "--task-id", "t1", "--target", #"{"securityProfileName":"P"}"#, "--actions", "q", "--include-only-active-violations"], "iot", "StartDetectMitigationActionsTask"),
            (["list-detect-mitigation-actions-executions", "--task-id", "t1"], "iot", "ListDetectMitigationActionsExecutions"),
            (["describe-detect-mitigation-actions-task", "--task-id", "t1"], "iot", "DescribeDetectMitigationActionsTask"),
            (["update-thing-shadow", "--thing-name", "p1", "--payload", #"{"state":{"reported":{"temp":7}}}"#], "", ""),
            (["delete-dynamic-thing-group", "--thing-group-name", "D"], "iot", "DeleteDynamicThingGroup"),
            (["detach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:\(acct):all/things"], "iot", "DetachSecurityProfile"),
            (["delete-security-profile", "--security-profile-name", "P"], "iot", "DeleteSecurityProfile"),
            (["remove-thing-from-thing-group", "--thing-group-name", "line", "--thing-name", "p1"], "iot", "RemoveThingFromThingGroup"),
            (["delete-thing", "--thing-name", "p1"], "iot", "DeleteThing"),
        ]
        var failures: [String] = []
        for (args, service, operation) in steps {
            let r = try cli.run(args)
            if r.code != 0 { failures.append("\(args.joined(separator: " ")): exit \(r.code): \(r.err)"); continue }
            guard !service.isEmpty else { continue }
            if let problem = try check(r.out, service, operation) { failures.append("\(operation): \(problem)") }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
