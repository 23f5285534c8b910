// FleetServer: each AWS operation the server answers, as a call of the engine's function for
// it. The protocols bind the request members (OperationInput) from the wire and serialize the
// engine's response, which already has the botocore output shape; here only members meet
// parameters.
import FleetIndex

/// What a handler works with: its own database handle and the request's time.
public struct OperationContext {
    public let db: FleetDatabase
    public let now: Int64
    /// The endpoint `describe-endpoint` names, and where queue URLs point.
    public let endpointAddress: String
    /// What the operation's preparation (`Operations.preparation`) made before its turn on the
    /// write thread, if it has one.
    public var prepared: (any Sendable)? = nil
}

/// Work an operation does before it gets a database handle: CPU-bound and without the
/// database, so that it does not hold the write thread (and SQLite's write lock) meanwhile.
public typealias OperationPreparation = @Sendable (OperationInput) throws -> any Sendable

public typealias OperationHandler = @Sendable (OperationContext, OperationInput) throws -> JSONValue

/// Handlers by service and operation name.
public enum Operations {
    public static func handler(service: String, operation: String) -> OperationHandler? {
        switch service {
        case "iot": iot[operation] ?? devices[operation]
        case "iot-data": iotData[operation]
        case "sns": sns[operation]
        case "sqs": sqs[operation]
        default: nil
        }
    }

    /// The preparation of an operation that has one.
    public static func preparation(service: String, operation: String) -> OperationPreparation? {
        service == "iot" ? devicePreparations[operation] : nil
    }

    static let empty = JSONValue.object([])

    // MARK: iot

    static let iot: [String: OperationHandler] = [
        // registry: things
        "CreateThing": { c, i in
            let attrs = try Registry.attributePayload(i.json("attributePayload"))
            return try Registry(c.db).createThing(name: i.required("thingName"), typeName: i.string("thingTypeName"),
                                                  attributes: attrs?.attributes, at: c.now)
        },
        "DescribeThing": { c, i in try Registry(c.db).describeThing(name: i.required("thingName")) },
        "UpdateThing": { c, i in
            try Registry(c.db).updateThing(name: i.required("thingName"), typeName: i.string("thingTypeName"),
                                           removeThingType: i.bool("removeThingType") ?? false,
                                           attributePayload: Registry.attributePayload(i.json("attributePayload")),
                                           expectedVersion: i.int64("expectedVersion"))
        },
        "DeleteThing": { c, i in try Registry(c.db).deleteThing(name: i.required("thingName"), expectedVersion: i.int64("expectedVersion"), at: c.now) },
        "ListThings": { c, i in
            try Registry(c.db).listThings(attributeName: i.string("attributeName"), attributeValue: i.string("attributeValue"),
                                          typeName: i.string("thingTypeName"), maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        // thing types
        "CreateThingType": { c, i in
            try Registry(c.db).createThingType(name: i.required("thingTypeName"), properties: i.json("thingTypeProperties"), at: c.now)
        },
        "DescribeThingType": { c, i in try Registry(c.db).describeThingType(name: i.required("thingTypeName")) },
        "ListThingTypes": { c, i in
            try Registry(c.db).listThingTypes(typeName: i.string("thingTypeName"), maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "DeprecateThingType": { c, i in
            try Registry(c.db).deprecateThingType(name: i.required("thingTypeName"), undo: i.bool("undoDeprecate") ?? false, at: c.now)
        },
        "DeleteThingType": { c, i in try Registry(c.db).deleteThingType(name: i.required("thingTypeName")) },
        // thing groups
        "CreateThingGroup": { c, i in
            try Registry(c.db).createThingGroup(name: i.required("thingGroupName"), parent: i.string("parentGroupName"),
                                                properties: i.json("thingGroupProperties"), at: c.now)
        },
        "DescribeThingGroup": { c, i in try Registry(c.db).describeThingGroup(name: i.required("thingGroupName")) },
        "UpdateThingGroup": { c, i in
            guard let p = i.json("thingGroupProperties") else { throw FleetError.invalid(member: "thingGroupProperties", "is required") }
            return try Registry(c.db).updateThingGroup(name: i.required("thingGroupName"), properties: p, expectedVersion: i.int64("expectedVersion"))
        },
        "ListThingGroups": { c, i in
            try Registry(c.db).listThingGroups(parent: i.string("parentGroup"), namePrefix: i.string("namePrefixFilter"),
                                               recursive: i.bool("recursive") ?? true, maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "DeleteThingGroup": { c, i in
            try Registry(c.db).deleteThingGroup(name: i.required("thingGroupName"), expectedVersion: i.int64("expectedVersion"))
        },
        "AddThingToThingGroup": { c, i in
            try Registry(c.db).addThingToThingGroup(group: groupName(i), thingName: thingName(i),
                                                    overrideDynamicGroups: i.bool("overrideDynamicGroups") ?? false, at: c.now)
        },
        "RemoveThingFromThingGroup": { c, i in
            try Registry(c.db).removeThingFromThingGroup(group: groupName(i), thingName: thingName(i))
        },
        "ListThingsInThingGroup": { c, i in
            try Registry(c.db).listThingsInThingGroup(group: i.required("thingGroupName"), recursive: i.bool("recursive") ?? false,
                                                      maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "ListThingGroupsForThing": { c, i in
            try Registry(c.db).listThingGroupsForThing(thingName: i.required("thingName"), maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        // fleet index
        "SearchIndex": { c, i in
            try Search(c.db).searchIndex(indexName: i.string("indexName"), query: i.required("queryString"), maxResults: i.int("maxResults"),
                                         nextToken: i.string("nextToken"), at: c.now)
        },
        "GetStatistics": { c, i in
            try Aggregations(c.db).statistics(query: i.required("queryString"), field: i.string("aggregationField"), indexName: i.string("indexName"), at: c.now)
        },
        "GetCardinality": { c, i in
            try Aggregations(c.db).cardinality(query: i.required("queryString"), field: i.string("aggregationField"), indexName: i.string("indexName"), at: c.now)
        },
        "GetPercentiles": { c, i in
            let percents = try i.json("percents")?.arrayValue?.map { v throws(FleetError) -> Double in
                guard let d = v.doubleValue else { throw FleetError.invalid(member: "percents", "must be a list of numbers") }
                return d
            }
            return try Aggregations(c.db).percentiles(query: i.required("queryString"), field: i.required("aggregationField"), percents: percents,
                                                      indexName: i.string("indexName"), at: c.now)
        },
        "GetBucketsAggregation": { c, i in
            guard let terms = i.json("bucketsAggregationType")?["termsAggregation"] else {
                throw FleetError.invalid(member: "bucketsAggregationType", "must hold termsAggregation")
            }
            return try Aggregations(c.db).buckets(query: i.required("queryString"), field: i.required("aggregationField"),
                                                  maxBuckets: terms["maxBuckets"]?.int64Value.map { Int($0) }, indexName: i.string("indexName"), at: c.now)
        },
        "UpdateIndexingConfiguration": { c, i in
            guard let config = i.json("thingIndexingConfiguration") else { return empty }
            return try IndexConfiguration(c.db).update(config)
        },
        "GetIndexingConfiguration": { c, _ in try IndexConfiguration(c.db).get() },
        "DescribeIndex": { c, i in try IndexConfiguration(c.db).describeIndex(name: i.required("indexName")) },
        "ListIndices": { c, _ in IndexConfiguration(c.db).listIndices() },
        // dynamic groups
        "CreateDynamicThingGroup": { c, i in
            try DynamicGroups(c.db).createDynamicThingGroup(name: i.required("thingGroupName"), query: i.required("queryString"),
                                                            indexName: i.string("indexName"), queryVersion: i.string("queryVersion"),
                                                            properties: i.json("thingGroupProperties"), at: c.now)
        },
        "UpdateDynamicThingGroup": { c, i in
            try DynamicGroups(c.db).updateDynamicThingGroup(name: i.required("thingGroupName"), query: i.string("queryString"),
                                                            expectedVersion: i.int64("expectedVersion"), at: c.now)
        },
        "DeleteDynamicThingGroup": { c, i in
            try DynamicGroups(c.db).deleteDynamicThingGroup(name: i.required("thingGroupName"), expectedVersion: i.int64("expectedVersion"))
        },
        // Device Defender Detect
        "CreateSecurityProfile": { c, i in
            try Defender(c.db).createSecurityProfile(name: i.required("securityProfileName"), description: i.string("securityProfileDescription"),
                                                     behaviors: i.json("behaviors"), alertTargets: i.json("alertTargets"),
                                                     additionalMetrics: i.json("additionalMetricsToRetainV2"), at: c.now)
        },
        "UpdateSecurityProfile": { c, i in
            try Defender(c.db).updateSecurityProfile(name: i.required("securityProfileName"), description: i.string("securityProfileDescription"),
                                                     behaviors: i.json("behaviors"), alertTargets: i.json("alertTargets"),
                                                     additionalMetrics: i.json("additionalMetricsToRetainV2"),
                                                     deleteBehaviors: i.bool("deleteBehaviors") ?? false, deleteAlertTargets: i.bool("deleteAlertTargets") ?? false,
                                                     deleteAdditionalMetrics: i.bool("deleteAdditionalMetricsToRetain") ?? false,
                                                     expectedVersion: i.int64("expectedVersion"), at: c.now)
        },
        "DescribeSecurityProfile": { c, i in try Defender(c.db).describeSecurityProfile(name: i.required("securityProfileName")) },
        "DeleteSecurityProfile": { c, i in
            try Defender(c.db).deleteSecurityProfile(name: i.required("securityProfileName"), expectedVersion: i.int64("expectedVersion"), at: c.now)
        },
        "ListSecurityProfiles": { c, i in try Defender(c.db).listSecurityProfiles(maxResults: i.int("maxResults"), nextToken: i.string("nextToken")) },
        "AttachSecurityProfile": { c, i in
            try Defender(c.db).attachSecurityProfile(name: i.required("securityProfileName"), targetARN: i.required("securityProfileTargetArn"))
        },
        "DetachSecurityProfile": { c, i in
            try Defender(c.db).detachSecurityProfile(name: i.required("securityProfileName"), targetARN: i.required("securityProfileTargetArn"), at: c.now)
        },
        "ValidateSecurityProfileBehaviors": { c, i in
            guard let behaviors = i.json("behaviors") else { throw FleetError.invalid(member: "behaviors", "is required") }
            return Defender(c.db).validateBehaviors(behaviors)
        },
        "ListTargetsForSecurityProfile": { c, i in try Defender(c.db).listTargetsForSecurityProfile(name: i.required("securityProfileName")) },
        "ListSecurityProfilesForTarget": { c, i in
            try Defender(c.db).listSecurityProfilesForTarget(targetARN: i.required("securityProfileTargetArn"), recursive: i.bool("recursive") ?? false)
        },
        "ListActiveViolations": { c, i in
            try Defender(c.db).listActiveViolations(thingName: i.string("thingName"), profile: i.string("securityProfileName"),
                                                    criteriaType: i.string("behaviorCriteriaType"), verificationState: i.string("verificationState"),
                                                    maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "ListViolationEvents": { c, i in
            try Defender(c.db).listViolationEvents(start: i.requiredTime("startTime"), end: i.requiredTime("endTime"), thingName: i.string("thingName"),
                                                   profile: i.string("securityProfileName"), criteriaType: i.string("behaviorCriteriaType"),
                                                   verificationState: i.string("verificationState"), maxResults: i.int("maxResults"),
                                                   nextToken: i.string("nextToken"))
        },
        "PutVerificationStateOnViolation": { c, i in
            try Defender(c.db).putVerificationState(violationId: i.required("violationId"), state: i.required("verificationState"),
                                                    description: i.string("verificationStateDescription"))
        },
        "ListMetricValues": { c, i in
            try Defender(c.db).listMetricValues(thingName: i.required("thingName"), metric: i.required("metricName"), start: i.requiredTime("startTime"),
                                                end: i.requiredTime("endTime"), dimension: i.string("dimensionName"), maxResults: i.int("maxResults"),
                                                nextToken: i.string("nextToken"))
        },
        // mitigation
        "CreateMitigationAction": { c, i in
            guard let params = i.json("actionParams") else { throw FleetError.invalid(member: "actionParams", "is required") }
            return try Mitigation(c.db).createAction(name: i.required("actionName"), roleARN: i.required("roleArn"), params: params, at: c.now)
        },
        "DescribeMitigationAction": { c, i in try Mitigation(c.db).describeAction(name: i.required("actionName")) },
        "ListMitigationActions": { c, i in try Mitigation(c.db).listActions(type: i.string("actionType")) },
        "DeleteMitigationAction": { c, i in try Mitigation(c.db).deleteAction(name: i.required("actionName")) },
        "StartDetectMitigationActionsTask": { c, i in
            guard let target = i.json("target") else { throw FleetError.invalid(member: "target", "is required") }
            return try Mitigation(c.db).startTask(taskId: i.required("taskId"), target: target, actions: i.strings("actions") ?? [],
                                                  range: i.json("violationEventOccurrenceRange"), onlyActive: i.bool("includeOnlyActiveViolations") ?? false,
                                                  includeSuppressed: i.bool("includeSuppressedAlerts") ?? false, at: c.now)
        },
        "ListDetectMitigationActionsExecutions": { c, i in
            try Mitigation(c.db).listExecutions(taskId: i.string("taskId"), violationId: i.string("violationId"), thingName: i.string("thingName"),
                                                start: i.time("startTime"), end: i.time("endTime"))
        },
        "DescribeDetectMitigationActionsTask": { c, i in try Mitigation(c.db).describeTask(taskId: i.required("taskId")) },
        "DescribeEndpoint": { c, i in
            let type = try i.string("endpointType") ?? "iot:Data-ATS"
            guard ["iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs"].contains(type) else {
                throw FleetError.invalid(member: "endpointType", "must be iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs")
            }
            return jsonObject([("endpointAddress", .string(c.endpointAddress))])
        },
    ]

    /// `thingGroupName` or the group's ARN, as AWS takes either.
    static func groupName(_ i: OperationInput) throws(FleetError) -> String {
        if let n = try i.string("thingGroupName") { return n }
        if let arn = try i.string("thingGroupArn"), let slash = arn.lastIndex(of: "/") { return String(arn[arn.index(after: slash)...]) }
        throw FleetError.invalid(member: "thingGroupName", "is required (or thingGroupArn)")
    }

    static func thingName(_ i: OperationInput) throws(FleetError) -> String {
        if let n = try i.string("thingName") { return n }
        if let arn = try i.string("thingArn"), let slash = arn.lastIndex(of: "/") { return String(arn[arn.index(after: slash)...]) }
        throw FleetError.invalid(member: "thingName", "is required (or thingArn)")
    }

    // MARK: iot-data

    static let iotData: [String: OperationHandler] = [
        "GetThingShadow": { c, i in try Registry(c.db).getThingShadow(thingName: i.required("thingName"), shadowName: i.string("shadowName")) },
        "UpdateThingShadow": { c, i in
            let payload = try shadowDocument(i)
            return try Registry(c.db).updateThingShadow(thingName: i.required("thingName"), shadowName: i.string("shadowName"), payload: payload, at: c.now)
        },
        "DeleteThingShadow": { c, i in try Registry(c.db).deleteThingShadow(thingName: i.required("thingName"), shadowName: i.string("shadowName")) },
        "ListNamedShadowsForThing": { c, i in
            try Registry(c.db).listNamedShadowsForThing(thingName: i.required("thingName"), pageSize: i.int("pageSize"),
                                                        nextToken: i.string("nextToken"), at: c.now)
        },
        // Until the MQTT endpoint exists, only the shadow topics have somewhere to go.
        "Publish": { c, i in
            let topic = try i.required("topic")
            let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 5, parts[0] == "$aws", parts[1] == "things", parts[3] == "shadow" else {
                throw FleetError.invalid(member: "topic", "'\(topic)' has no subscriber here: fleetdex takes $aws/things/THING/shadow/... topics")
            }
            let thing = parts[2]
            let named = parts.count >= 7 && parts[4] == "name"
            let shadow = named ? parts[5] : nil
            switch named ? Array(parts[6...]) : Array(parts[4...]) {
            case ["update"]: _ = try Registry(c.db).updateThingShadow(thingName: thing, shadowName: shadow, payload: shadowDocument(i), at: c.now)
            case ["delete"]: _ = try Registry(c.db).deleteThingShadow(thingName: thing, shadowName: shadow)
            case ["get"]: _ = try Registry(c.db).getThingShadow(thingName: thing, shadowName: shadow)
            default: throw FleetError.invalid(member: "topic", "'\(topic)' is not a shadow request topic (update, get, delete)")
            }
            return empty
        },
    ]

    /// The `payload` blob of an iot-data request, as the JSON document it must be.
    static func shadowDocument(_ i: OperationInput) throws(FleetError) -> JSONValue {
        guard let text = try i.string("payload") else { throw FleetError.invalid(member: "payload", "is required") }
        do { return try JSONValue.parse(text) } catch { throw FleetError.badJSON(member: "payload", error) }
    }

    // MARK: sns

    static let sns: [String: OperationHandler] = [
        "CreateTopic": { c, i in try Notifications(c.db).createTopic(name: i.required("Name"), at: c.now) },
        "DeleteTopic": { c, i in try Notifications(c.db).deleteTopic(arn: i.required("TopicArn")) },
        "ListTopics": { c, _ in try Notifications(c.db).listTopics() },
        "Subscribe": { c, i in
            try Notifications(c.db).subscribe(topicARN: i.required("TopicArn"), protocol: i.required("Protocol"),
                                              endpoint: i.required("Endpoint"), at: c.now)
        },
        "Unsubscribe": { c, i in try Notifications(c.db).unsubscribe(arn: i.required("SubscriptionArn")) },
        "ListSubscriptions": { c, _ in try Notifications(c.db).listSubscriptions(topicARN: nil) },
        "ListSubscriptionsByTopic": { c, i in try Notifications(c.db).listSubscriptions(topicARN: i.required("TopicArn")) },
        "Publish": { c, i in
            try Notifications(c.db).publishOperation(topicARN: i.required("TopicArn"), message: i.required("Message"),
                                                     subject: i.string("Subject"), at: c.now)
        },
    ]

    // MARK: sqs

    static let sqs: [String: OperationHandler] = [
        "CreateQueue": { c, i in try Notifications(c.db).createQueue(name: i.required("QueueName"), attributes: i.stringMap("Attributes") ?? [:], at: c.now) },
        "ListQueues": { c, i in try Notifications(c.db).listQueues(prefix: i.string("QueueNamePrefix")) },
        "GetQueueUrl": { c, i in try Notifications(c.db).getQueueURL(name: i.required("QueueName")) },
        "DeleteQueue": { c, i in try Notifications(c.db).deleteQueue(url: i.required("QueueUrl")) },
        "SetQueueAttributes": { c, i in
            try Notifications(c.db).setQueueAttributes(url: i.required("QueueUrl"), attributes: i.stringMap("Attributes") ?? [:])
        },
        "GetQueueAttributes": { c, i in
            try Notifications(c.db).getQueueAttributes(url: i.required("QueueUrl"), names: i.strings("AttributeNames") ?? [])
        },
        "SendMessage": { c, i in try Notifications(c.db).sendMessage(url: i.required("QueueUrl"), body: i.required("MessageBody"), at: c.now) },
        "ReceiveMessage": { c, i in
            // Long polling happens in the protocol layer (it must not hold a database handle).
            try Notifications(c.db).receiveMessage(url: i.required("QueueUrl"), max: i.int("MaxNumberOfMessages") ?? 1,
                                                   visibilityTimeout: i.int64("VisibilityTimeout"), wait: 0, at: c.now,
                                                   attributeNames: (i.strings("AttributeNames") ?? []) + (i.strings("MessageSystemAttributeNames") ?? []))
        },
        "DeleteMessage": { c, i in try Notifications(c.db).deleteMessage(url: i.required("QueueUrl"), receiptHandle: i.required("ReceiptHandle")) },
        "ChangeMessageVisibility": { c, i in
            guard let t = try i.int64("VisibilityTimeout") else { throw FleetError.invalid(member: "VisibilityTimeout", "is required") }
            return try Notifications(c.db).changeMessageVisibility(url: i.required("QueueUrl"), receiptHandle: i.required("ReceiptHandle"),
                                                                   timeout: t, at: c.now)
        },
        "PurgeQueue": { c, i in try Notifications(c.db).purgeQueue(url: i.required("QueueUrl")) },
    ]
}
