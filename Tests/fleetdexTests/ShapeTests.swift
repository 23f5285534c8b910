// Every operation's JSON output checked against the botocore model's output shape, as
// Model/aws-operations.json records it (keys, required members, types, enums, sizes; see
// ModelShape.swift), and the checker itself checked on documents that must not fit.
import FleetIndex
import Foundation
import Testing

@Suite struct ShapeTests {
    static let model = Result { try AWSModel.load() }

    func check(_ json: String, _ service: String, _ operation: String) throws -> String? {
        let problems = try Self.model.get().outputProblems(json, service, operation)
        return problems.isEmpty ? nil : problems.joined(separator: "\n")
    }

    @Test func everyOperationFitsItsShape() throws {
        #expect(FileManager.default.fileExists(atPath: AWSModel.url.path), "the model table is not at \(AWSModel.url.path)")
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

    /// The operations the steps above leave out, which need a value an earlier output gives
    /// (a receipt handle, a subscription ARN, a violation id).
    @Test func theOtherOperationsFitTheirShapes() throws {
        let cli = try CLI()
        let acct = "123456789012"
        var failures: [String] = []
        @discardableResult
        func step(_ args: [String], _ service: String, _ operation: String) throws -> JSONValue {
            let r = try cli.run(args)
            if r.code != 0 { failures.append("\(args.joined(separator: " ")): exit \(r.code): \(r.err)"); return .null }
            if !service.isEmpty, let problem = try check(r.out, service, operation) { failures.append("\(operation): \(problem)") }
            return r.out.allSatisfy(\.isWhitespace) ? .object([]) : try JSONValue.parse(r.out)
        }
        try step(["create-thing-type", "--thing-type-name", "Pump"], "iot", "CreateThingType")
        try step(["deprecate-thing-type", "--thing-type-name", "Pump"], "iot", "DeprecateThingType")
        try step(["deprecate-thing-type", "--thing-type-name", "Pump", "--undo-deprecate"], "iot", "DeprecateThingType")
        try step(["delete-thing-type", "--thing-type-name", "Pump"], "iot", "DeleteThingType")
        try step(["create-thing-group", "--thing-group-name", "g"], "iot", "CreateThingGroup")
        try step(["delete-thing-group", "--thing-group-name", "g"], "iot", "DeleteThingGroup")
        let topic = "arn:aws:sns:us-east-1:\(acct):T"
        try step(["sns", "create-topic", "--name", "T"], "sns", "CreateTopic")
        try step(["sqs", "create-queue", "--queue-name", "Q"], "sqs", "CreateQueue")
        try step(["sqs", "get-queue-url", "--queue-name", "Q"], "sqs", "GetQueueUrl")
        try step(["sqs", "set-queue-attributes", "--queue-url", "Q", "--attributes", #"{"VisibilityTimeout":"10"}"#], "sqs", "SetQueueAttributes")
        let sub = try step(["sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", "arn:aws:sqs:us-east-1:\(acct):Q"], "sns", "Subscribe")
        try step(["sns", "list-subscriptions-by-topic", "--topic-arn", topic], "sns", "ListSubscriptionsByTopic")
        try step(["sns", "publish", "--topic-arn", topic, "--message", "hi", "--subject", "s"], "sns", "Publish")
        try step(["sqs", "send-message", "--queue-url", "Q", "--message-body", "hello"], "sqs", "SendMessage")
        let received = try step(["sqs", "receive-message", "--queue-url", "Q", "--max-number-of-messages", "10"], "sqs", "ReceiveMessage")
        let handles = (received["Messages"]?.arrayValue ?? []).compactMap { $0["ReceiptHandle"]?.stringValue }
        #expect(handles.count == 2)
        if let first = handles.first {
            try step(["sqs", "change-message-visibility", "--queue-url", "Q", "--receipt-handle", first, "--visibility-timeout", "0"], "sqs", "ChangeMessageVisibility")
            try step(["sqs", "delete-message", "--queue-url", "Q", "--receipt-handle", first], "sqs", "DeleteMessage")
        }
        try step(["sqs", "purge-queue", "--queue-url", "Q"], "sqs", "PurgeQueue")
        if let arn = sub["SubscriptionArn"]?.stringValue {
            try step(["sns", "unsubscribe", "--subscription-arn", arn], "sns", "Unsubscribe")
        } else {
            failures.append("subscribe gave no SubscriptionArn")
        }
        try step(["sqs", "delete-queue", "--queue-url", "Q"], "sqs", "DeleteQueue")
        try step(["sns", "delete-topic", "--topic-arn", topic], "sns", "DeleteTopic")
        // a violation to verify
        try step(["create-thing", "--thing-name", "p1"], "iot", "CreateThing")
        try step(["create-security-profile", "--security-profile-name", "P", "--alert-when", "B: aws:disconnect-duration >= 5"], "iot", "CreateSecurityProfile")
        try step(["attach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:\(acct):all/things"], "iot", "AttachSecurityProfile")
        try step(["connect", "--thing-name", "p1", "--at", "2026-11-28T10:00:20Z"], "", "")
        try step(["disconnect", "--thing-name", "p1", "--at", "2026-11-28T10:01:20Z"], "", "")
        try step(["evaluate", "--at", "2026-11-28T10:10:00Z"], "", "")
        let active = try step(["list-active-violations"], "iot", "ListActiveViolations")
        if let id = active["activeViolations"]?.arrayValue?.first?["violationId"]?.stringValue {
            try step(["put-verification-state-on-violation", "--violation-id", id, "--verification-state", "BENIGN_POSITIVE",
                      "--verification-state-description", "maintenance"], "iot", "PutVerificationStateOnViolation")
            try step(["list-active-violations"], "iot", "ListActiveViolations")
        } else {
            failures.append("no active violation to verify")
        }
        try step(["create-thing-group", "--thing-group-name", "plant"], "iot", "CreateThingGroup")
        try step(["create-mitigation-action", "--action-name", "q", "--role-arn", "arn:aws:iam::\(acct):role/m",
                  "--action-params", #"{"addThingsToThingGroupParams":{"thingGroupNames":["plant"]}}"#], "iot", "CreateMitigationAction")
        try step(["delete-mitigation-action", "--action-name", "q"], "iot", "DeleteMitigationAction")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// A CSR made once for these steps (an EC P-256 key, thrown away; only its public half is here).
    static let csr = """
        -----BEGIN CERTIFICATE REQUEST-----
        MIHPMHcCAQAwFTETMBEGA1UEAwwKc2hhcGUtdGVzdDBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABJd6miL1lOF8tYICIVEWUP/KF9Cthn5tolVlpE3emGbN+ySX7oru
        q7TwrBcO2uufcCBQUZNRseaKUIXLwappMpegADAKBggqhkjOPQQDAgNIADBFAiBn
        NFnRin25KS0W4oQ6bkWC8tDN2AAEpljT3Y9V5b0W9AIhAJ5orfAC6sWWcTlV5Ias
        lX8kM49PrzedfYWrjNPP+bh7
        -----END CERTIFICATE REQUEST-----

        """

    /// Certificates, thing principals and policies; no output but create-keys-and-certificate's
    /// carries a private key.
    @Test func theDeviceOperationsFitTheirShapes() throws {
        let cli = try CLI()
        var failures: [String] = []
        @discardableResult
        func step(_ args: [String], _ service: String, _ operation: String) throws -> JSONValue {
            let r = try cli.run(args + ["--at", "2026-11-28T10:00:00Z"])
            if r.code != 0 { failures.append("\(args.joined(separator: " ")): exit \(r.code): \(r.err)"); return .null }
            if !service.isEmpty, let problem = try check(r.out, service, operation) { failures.append("\(operation): \(problem)") }
            if operation != "CreateKeysAndCertificate" && (r.out + r.err).contains("PRIVATE KEY") {
                failures.append("\(args.joined(separator: " ")) printed a private key")
            }
            return r.out.allSatisfy(\.isWhitespace) ? .object([]) : try JSONValue.parse(r.out)
        }
        let root = try cli.run(["get-root-ca"])
        #expect(root.code == 0 && root.out.hasPrefix("-----BEGIN CERTIFICATE-----") && !root.out.contains("PRIVATE KEY"))
        let keyFile = cli.dir.appendingPathComponent("device.key").path, certFile = cli.dir.appendingPathComponent("device.pem").path
        let keys = try step(["create-keys-and-certificate", "--set-as-active", "--private-key-outfile", keyFile, "--certificate-pem-outfile", certFile],
                            "iot", "CreateKeysAndCertificate")
        #expect(keys["keyPair"]?["PrivateKey"]?.stringValue?.contains("PRIVATE KEY") == true)
        // The AWS CLI's outfiles: the key owner-only.
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == keys["keyPair"]?["PrivateKey"]?.stringValue)
        #expect(try String(contentsOfFile: certFile, encoding: .utf8) == keys["certificatePem"]?.stringValue)
        #expect((try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let id = keys["certificateId"]?.stringValue ?? "", arn = keys["certificateArn"]?.stringValue ?? ""
        let csr = try step(["create-certificate-from-csr", "--certificate-signing-request=" + Self.csr], "iot", "CreateCertificateFromCsr")
        try step(["describe-certificate", "--certificate-id", id], "iot", "DescribeCertificate")
        try step(["list-certificates", "--page-size", "1"], "iot", "ListCertificates")
        try step(["create-thing", "--thing-name", "d1"], "iot", "CreateThing")
        try step(["attach-thing-principal", "--thing-name", "d1", "--principal", arn], "iot", "AttachThingPrincipal")
        try step(["list-thing-principals", "--thing-name", "d1"], "iot", "ListThingPrincipals")
        try step(["list-principal-things", "--principal", arn], "iot", "ListPrincipalThings")
        let doc = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"}]}"#
        try step(["create-policy", "--policy-name", "Dev", "--policy-document", doc], "iot", "CreatePolicy")
        try step(["create-policy-version", "--policy-name", "Dev", "--policy-document", doc, "--set-as-default"], "iot", "CreatePolicyVersion")
        try step(["get-policy", "--policy-name", "Dev"], "iot", "GetPolicy")
        try step(["list-policies"], "iot", "ListPolicies")
        try step(["list-policy-versions", "--policy-name", "Dev"], "iot", "ListPolicyVersions")
        try step(["get-policy-version", "--policy-name", "Dev", "--policy-version-id", "1"], "iot", "GetPolicyVersion")
        try step(["set-default-policy-version", "--policy-name", "Dev", "--policy-version-id", "1"], "iot", "SetDefaultPolicyVersion")
        try step(["delete-policy-version", "--policy-name", "Dev", "--policy-version-id", "2"], "iot", "DeletePolicyVersion")
        try step(["attach-policy", "--policy-name", "Dev", "--target", arn], "iot", "AttachPolicy")
        try step(["list-attached-policies", "--target", arn], "iot", "ListAttachedPolicies")
        try step(["list-targets-for-policy", "--policy-name", "Dev"], "iot", "ListTargetsForPolicy")
        let auth = try step(["test-authorization", "--principal", arn, "--client-id", "d1", "--auth-infos",
                             #"[{"actionType":"CONNECT","resources":["arn:aws:iot:us-east-1:123456789012:client/d1"]},{"actionType":"PUBLISH","resources":["arn:aws:iot:us-east-1:123456789012:topic/t"]}]"#],
                            "iot", "TestAuthorization")
        #expect(auth["authResults"]?.arrayValue?.compactMap { $0["authDecision"]?.stringValue } == ["ALLOWED", "IMPLICIT_DENY"])
        try step(["detach-policy", "--policy-name", "Dev", "--target", arn], "iot", "DetachPolicy")
        try step(["delete-policy", "--policy-name", "Dev"], "iot", "DeletePolicy")
        try step(["detach-thing-principal", "--thing-name", "d1", "--principal", arn], "iot", "DetachThingPrincipal")
        try step(["update-certificate", "--certificate-id", id, "--new-status", "INACTIVE"], "iot", "UpdateCertificate")
        try step(["delete-certificate", "--certificate-id", id], "iot", "DeleteCertificate")
        // The deleted certificate comes back, registered without a CA.
        if let pem = keys["certificatePem"]?.stringValue {
            try step(["register-certificate-without-ca", "--certificate-pem=" + pem, "--status", "ACTIVE"], "iot", "RegisterCertificateWithoutCA")
        }
        #expect(csr["certificateId"] != nil)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Documents that fit: the checker must pass them, or the table below proves nothing.
    @Test(arguments: [
        ("iot", "DescribeThing", #"{"thingName":"p1","thingArn":"arn:aws:iot:us-east-1:123456789012:thing/p1","attributes":{"site":"denver"},"version":1}"#),
        ("iot", "DeleteThing", "{}"),
        ("iot", "DeleteThing", ""),
        ("sqs", "DeleteMessage", ""),
        ("iot", "DescribeThingType", #"{"thingTypeName":"Pump","thingTypeMetadata":{"deprecated":false,"creationDate":"2026-11-28T10:00:00.000000+00:00"}}"#),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"creationDate":1764324000.5}}"#),
        ("iot", "SearchIndex", #"{"things":[{"thingName":"p1","connectivity":{"connected":false,"timestamp":1764324000000}}]}"#),
        ("iot", "GetStatistics", #"{"statistics":{"count":3,"average":1.5,"sum":4.5e0,"minimum":-1}}"#),
        ("sqs", "GetQueueAttributes", #"{"Attributes":{"QueueArn":"arn:aws:sqs:us-east-1:123456789012:Q","VisibilityTimeout":"30"}}"#),
        ("sqs", "ReceiveMessage", #"{"Messages":[{"MessageId":"m","Body":"b","MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"AAE="}}}]}"#),
        ("iot", "DescribeSecurityProfile", #"{"behaviors":[{"name":"B","metric":"aws:disconnect-duration","criteria":{"comparisonOperator":"greater-than-equals","value":{"count":5}}}]}"#),
    ])
    func checkerPassesFittingDocuments(service: String, operation: String, json: String) throws {
        #expect(try check(json, service, operation) == nil)
    }

    /// Documents that do not fit, each with the problem the checker must name.
    @Test(arguments: [
        // unknown keys, at the top and nested
        ("iot", "DescribeThing", #"{"thingName":"p1","bogus":1}"#, "$.bogus: not a member of DescribeThingResponse"),
        ("iot", "SearchIndex", #"{"things":[{"thingName":"p1","connectivity":{"connected":true,"since":1}}]}"#,
         "$.things[0].connectivity.since: not a member of ThingConnectivity"),
        ("iot", "DescribeThing", #"{"thingName":"p1","thingName":"p2"}"#, "$.thingName: appears twice"),
        // missing required members
        ("iot", "DescribeSecurityProfile", #"{"behaviors":[{"metric":"aws:disconnect-duration"}]}"#,
         "$.behaviors[0].name: required by Behavior, missing"),
        ("iot", "ListSecurityProfiles", #"{"securityProfileIdentifiers":[{"name":"P"}]}"#,
         "$.securityProfileIdentifiers[0].arn: required by SecurityProfileIdentifier, missing"),
        ("iot", "GetIndexingConfiguration", #"{"thingIndexingConfiguration":{}}"#,
         "$.thingIndexingConfiguration.thingIndexingMode: required by ThingIndexingConfiguration, missing"),
        // wrong types
        ("iot", "DescribeThing", #"{"version":"1"}"#, "$.version: expected an integer (Version), got a string"),
        ("iot", "DescribeThing", #"{"version":1.5}"#, "$.version: 1.5 is not a 64-bit integer (Version)"),
        ("iot", "DescribeThing", #"{"thingName":7}"#, "$.thingName: expected a string (ThingName), got a number"),
        ("iot", "DescribeThing", #"{"thingName":null}"#, "$.thingName: null is not a value (ThingName)"),
        ("iot", "DescribeThing", #"{"attributes":["site"]}"#, "$.attributes: expected a map (Attributes), got an array"),
        ("iot", "DescribeThing", #"{"attributes":{"site":1}}"#, #"$.attributes["site"]: expected a string (AttributeValue), got a number"#),
        ("iot", "ListThings", #"{"things":{"thingName":"p1"}}"#, "$.things: expected a list (ThingAttributeList), got an object"),
        ("iot", "ListThings", #"{"things":["p1"]}"#, "$.things[0]: expected an object (ThingAttribute), got a string"),
        ("iot", "ListThings", "[]", "$: expected an object (ListThingsResponse), got an array"),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"deprecated":"false"}}"#,
         "$.thingTypeMetadata.deprecated: expected true or false (Boolean), got a string"),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"deprecated":0}}"#,
         "$.thingTypeMetadata.deprecated: expected true or false (Boolean), got a number"),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"creationDate":"2026-11-28 10:00:00"}}"#,
         "$.thingTypeMetadata.creationDate: expected an ISO 8601 time or epoch seconds (CreationDate), got a string"),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"creationDate":"2026-13-28T10:00:00Z"}}"#,
         "$.thingTypeMetadata.creationDate: expected an ISO 8601 time or epoch seconds (CreationDate), got a string"),
        ("iot", "DescribeThingType", #"{"thingTypeMetadata":{"creationDate":true}}"#,
         "$.thingTypeMetadata.creationDate: expected an ISO 8601 time or epoch seconds (CreationDate), got a boolean"),
        ("iot", "GetStatistics", #"{"statistics":{"average":"1.5"}}"#, "$.statistics.average: expected a number (Average), got a string"),
        ("iot", "GetStatistics", #"{"statistics":{"count":3000000000}}"#, "$.statistics.count: 3000000000 is not a 32-bit integer (Count)"),
        ("sqs", "ReceiveMessage", #"{"Messages":[{"MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"not base64!"}}}]}"#,
         #"$.Messages[0].MessageAttributes["a"].BinaryValue: not base64 (Binary)"#),
        // enums, as values and as map keys
        ("iot", "GetIndexingConfiguration", #"{"thingIndexingConfiguration":{"thingIndexingMode":"EVERYTHING"}}"#,
         #"$.thingIndexingConfiguration.thingIndexingMode: "EVERYTHING" is not one of ThingIndexingMode's values"#),
        ("iot", "DescribeSecurityProfile", #"{"behaviors":[{"name":"B","criteria":{"comparisonOperator":"greater"}}]}"#,
         #"$.behaviors[0].criteria.comparisonOperator: "greater" is not one of ComparisonOperator's values"#),
        ("sqs", "GetQueueAttributes", #"{"Attributes":{"QueueColour":"blue"}}"#,
         #"$.Attributes["QueueColour"]: "QueueColour" is not one of QueueAttributeName's values (a key)"#),
        // sizes
        ("iot", "DescribeThing", #"{"thingName":""}"#, "$.thingName: 0 characters, fewer than the 1 of ThingName"),
        ("iot", "DescribeMitigationAction", #"{"actionParams":{"addThingsToThingGroupParams":{"thingGroupNames":[]}}}"#,
         "$.actionParams.addThingsToThingGroupParams.thingGroupNames: 0 items, fewer than the 1 of ThingGroupNames"),
        // errors deep inside, and several at once
        ("iot", "ListActiveViolations", #"{"activeViolations":[{"thingName":"p1"},{"thingName":"p2","behavior":{"name":"B","criteria":{"value":{"count":"5"}}}}]}"#,
         "$.activeViolations[1].behavior.criteria.value.count: expected an integer (UnsignedLong), got a string"),
        // no output shape, not JSON
        ("sqs", "DeleteMessage", #"{"ok":true}"#, "DeleteMessage has no output shape, but the document is not empty"),
        ("iot", "DescribeThing", #"{"thingName":"p1""#, "not JSON"),
    ])
    func checkerRejectsWrongDocuments(service: String, operation: String, json: String, problem: String) throws {
        let found = try check(json, service, operation)
        #expect(found?.split(separator: "\n").contains { $0.hasPrefix(problem) } == true,
                "expected \(problem), got \(found ?? "no problem")")
    }

    /// The same checker on an operation's input (what the HTTP server will bind).
    @Test func checkerChecksInputs() throws {
        let model = try Self.model.get()
        #expect(try model.inputProblems(#"{"thingName":"p1","attributePayload":{"attributes":{"site":"denver"},"merge":true}}"#, "iot", "CreateThing") == [])
        #expect(try model.inputProblems(#"{"attributePayload":{}}"#, "iot", "CreateThing") == ["$.thingName: required by CreateThingRequest, missing"])
        #expect(try model.inputProblems(#"{"QueueUrl":"Q","MaxNumberOfMessages":"10"}"#, "sqs", "ReceiveMessage")
                == ["$.MaxNumberOfMessages: expected an integer (NullableInteger), got a string"])
    }

    /// The table knows every operation the steps above check, and the iot-data operations the server needs.
    @Test func theTableHasTheOperations() throws {
        let model = try Self.model.get()
        #expect(model.botocoreVersion != nil)
        let ops = model.operations
        #expect(Set(ops.keys) == ["iot", "iot-data", "sns", "sqs"])
        for name in ["GetThingShadow", "UpdateThingShadow", "DeleteThingShadow", "ListNamedShadowsForThing", "Publish"] {
            #expect(ops["iot-data"]?.contains(name) == true, "iot-data \(name)")
        }
        let op = try model.operation("iot", "DescribeThing")
        #expect(op["method"] == .string("GET") && op["requestUri"] == .string("/things/{thingName}"))
        #expect(op["input"]?["members"]?["thingName"]?["location"] == .string("uri"))
    }
}
