// `fleetdex serve` with the real clients: boto3 through the whole walkthrough (errors,
// pagination, presence over HTTP, the alarm, the notification, the dynamic group, shadows)
// and every operation, on SQLite and on PostgreSQL, and the AWS CLI's commands as the issue
// types them.
import Foundation
import Testing

@Suite(.serialized) struct WireClientTests {
    static let clients = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Clients")

    /// On both engines: `serve --db postgres://…` answers the same walkthrough.
    @Test(arguments: ServerBackend.allCases)
    func boto3Walkthrough(_ backend: ServerBackend) throws {
        let server = try ServerProcess(on: backend)
        #expect(server.startLine.contains("(database \(backend == .postgres ? "postgres://" : server.database)"), "\(server.startLine)")
        let (status, out) = try ServerProcess.run(["python3", Self.clients.appendingPathComponent("boto3_walkthrough.py").path, server.endpoint,
                                                   server.database, ServerProcess.binaries.appendingPathComponent("fleetdex").path])
        #expect(status == 0, "\(out)")
        #expect(out.contains(" 0 failed"), "\(out)")
        #expect(server.stop() == 0, "SIGTERM stops the server cleanly")
    }

    @Test func awsCLI() throws {
        let server = try ServerProcess()
        let env = ["AWS_ACCESS_KEY_ID": "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY": "s3cret", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": ""]
        func aws(_ args: String...) throws -> (Int32, String) {
            try ServerProcess.run(["aws"] + args + ["--endpoint-url", server.endpoint, "--output", "json"], env: env)
        }
        let steps: [([String], String)] = [
            (["sns", "create-topic", "--name", "Disconnected_things_notification"], "arn:aws:sns:us-east-1:123456789012:Disconnected_things_notification"),
            (["sqs", "create-queue", "--queue-name", "Disconnect_thing_notification_queue"], "Disconnect_thing_notification_queue"),
            (["sns", "subscribe", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:Disconnected_things_notification", "--protocol", "sqs",
              "--notification-endpoint", "arn:aws:sqs:us-east-1:123456789012:Disconnect_thing_notification_queue"], "SubscriptionArn"),
            (["iot", "update-indexing-configuration", "--thing-indexing-configuration",
              #"{"thingIndexingMode":"REGISTRY","thingConnectivityIndexingMode":"STATUS","deviceDefenderIndexingMode":"VIOLATIONS"}"#], ""),
            (["iot", "create-security-profile", "--security-profile-name", "Disconnect_duration_5m", "--behaviors",
              #"[{"name":"Disconnected_5m","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"less-than","value":{"count":5},"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]"#,
              "--alert-targets", #"{"SNS":{"alertTargetArn":"arn:aws:sns:us-east-1:123456789012:Disconnected_things_notification","roleArn":"arn:aws:iam::123456789012:role/alerts"}}"#],
             "securityprofile/Disconnect_duration_5m"),
            (["iot", "attach-security-profile", "--security-profile-name", "Disconnect_duration_5m",
              "--security-profile-target-arn", "arn:aws:iot:us-east-1:123456789012:all/things"], ""),
            (["iot", "create-thing", "--thing-name", "test_thing"], "thing/test_thing"),
            (["iot", "list-metric-values", "--thing-name", "test_thing", "--metric-name", "aws:disconnect-duration",
              "--start-time", "2026-11-28T10:00:00Z", "--end-time", "2026-11-28T10:30:00Z"], "metricDatumList"),
            (["iot", "search-index", "--query-string", "deviceDefender.Disconnect_duration_5m.*.inViolation:true"], "things"),
            (["iot", "create-dynamic-thing-group", "--thing-group-name", "Disconnected_things", "--query-string",
              "deviceDefender.Disconnect_duration_5m.*.inViolation:true"], "thinggroup/Disconnected_things"),
            (["sqs", "receive-message", "--queue-url", "\(server.endpoint)/123456789012/Disconnect_thing_notification_queue", "--wait-time-seconds", "1"], ""),
            (["iot", "delete-dynamic-thing-group", "--thing-group-name", "Disconnected_things"], ""),
            (["iot", "delete-security-profile", "--security-profile-name", "Disconnect_duration_5m"], ""),
            (["iot", "delete-thing", "--thing-name", "test_thing"], ""),
            (["sns", "delete-topic", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:Disconnected_things_notification"], ""),
            (["sqs", "delete-queue", "--queue-url", "\(server.endpoint)/123456789012/Disconnect_thing_notification_queue"], ""),
        ]
        for (args, expected) in steps {
            let (status, out) = try ServerProcess.run(["aws"] + args + ["--endpoint-url", server.endpoint, "--output", "json"], env: env)
            #expect(status == 0, "aws \(args.joined(separator: " ")): \(out)")
            if !expected.isEmpty { #expect(out.contains(expected), "aws \(args.joined(separator: " ")): \(out)") }
        }
        let (status, out) = try aws("iot", "describe-thing", "--thing-name", "test_thing")
        #expect(status == 254 || status == 255, "\(status)")
        #expect(out.contains("ResourceNotFoundException"), "\(out)")
        #expect(server.stop() == 0)
    }
}

/// Requests no SDK would send (malformed bodies, unknown operations, oversized bodies, the
/// SQS query protocol of older SDKs), signed with botocore's signer.
@Suite struct RawRequestTests {
    @Test func malformedAndOldProtocolRequests() throws {
        let server = try ServerProcess(["--no-evaluate", "--presence-token", "tok", "--confirm-destinations"])
        let (status, out) = try ServerProcess.run(["python3", WireClientTests.clients.appendingPathComponent("raw_requests.py").path, server.endpoint,
                                                   server.database, ServerProcess.binaries.appendingPathComponent("fleetdex").path])
        #expect(status == 0, "\(out)")
        #expect(out.contains(" 0 failed"), "\(out)")
        #expect(server.stop() == 0)
    }
}

/// Every operation of the model table once through boto3, each raw JSON answer checked
/// against its output shape in the table.
@Suite struct EveryOperationTests {
    @Test(arguments: ServerBackend.allCases)
    func everyOperationThroughBoto3(_ backend: ServerBackend) throws {
        let server = try ServerProcess(on: backend)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Model/aws-operations.json").path
        let (status, out) = try ServerProcess.run(["python3", WireClientTests.clients.appendingPathComponent("boto3_every_operation.py").path,
                                                   server.endpoint, model])
        #expect(status == 0, "\(out)")
        #expect(out.contains(" 0 failed"), "\(out)")
        #expect(server.stop() == 0)
    }
}
