// Policy evaluation, table-driven, on AWS's documented example policies (the AWS IoT Core
// developer guide's "Example policies", policy variables, and IAM's evaluation logic):
// connect with client id = thing name, publish to topic/${iot:ClientId}/*, explicit deny wins,
// default deny, wildcards in actions and resources, MQTT wildcards as literals, NotAction,
// NotResource, conditions, unresolvable variables.
import FleetDevices
import FleetIndex
import Testing

@Suite struct PolicyEvaluatorTests {
    static let arn = "arn:aws:iot:us-east-1:123456789012"

    static func policy(_ statements: String) -> PolicyDocument {
        try! PolicyDocument.parse(#"{"Version":"2012-10-17","Statement":["# + statements + "]}")
    }

    /// The policies of the table, by name.
    static let policies: [String: PolicyDocument] = [
        // Connect only as the thing the certificate is attached to (client id = thing name).
        "connect-as-thing": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"\#(arn):client/${iot:Connection.Thing.ThingName}"}"#),
        // The same with the IsAttached condition of AWS's examples.
        "connect-attached": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"\#(arn):client/${iot:ClientId}","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}"#),
        // Publish, subscribe and receive under the client's own topic prefix.
        "own-topics": policy("""
            {"Effect":"Allow","Action":"iot:Connect","Resource":"\(arn):client/${iot:ClientId}"},
            {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"\(arn):topic/${iot:ClientId}/*"},
            {"Effect":"Allow","Action":"iot:Subscribe","Resource":"\(arn):topicfilter/${iot:ClientId}/*"}
            """),
        // Everything but admin topics: the Deny wins over the Allow.
        "deny-admin": policy("""
            {"Effect":"Allow","Action":"iot:*","Resource":"*"},
            {"Effect":"Deny","Action":["iot:Publish","iot:Subscribe"],"Resource":["\(arn):topic/admin/*","\(arn):topicfilter/admin/*"]}
            """),
        // Action and resource wildcards; MQTT's + and # are literal in a policy.
        "wildcards": policy("""
            {"Effect":"Allow","Action":"iot:Pub*","Resource":"\(arn):topic/sensors/??/temp"},
            {"Effect":"Allow","Action":"iot:Subscribe","Resource":"\(arn):topicfilter/sensors/+/temp"},
            {"Effect":"Allow","Action":"iot:Subscribe","Resource":"\(arn):topicfilter/alarms/#"}
            """),
        // Deny every action but Connect, allow all: only Connect passes.
        "not-action": policy("""
            {"Effect":"Allow","Action":"iot:*","Resource":"*"},
            {"Effect":"Deny","NotAction":"iot:Connect","Resource":"*"}
            """),
        // Publish anywhere but under secret/.
        "not-resource": policy(#"{"Effect":"Allow","Action":"iot:Publish","NotResource":"\#(arn):topic/secret/*"}"#),
        // Conditions on the client id.
        "client-list": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":["clientid1","clientid2"]}}}"#),
        "client-like": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringLike":{"iot:ClientId":"sensor-*"}}}"#),
        "client-not": policy("""
            {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
            {"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"StringNotEquals":{"iot:Connection.Thing.ThingTypeName":"Pump"}}}
            """),
        "type-if-exists": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEqualsIfExists":{"iot:Connection.Thing.ThingTypeName":"Pump"}}}"#),
        // A Deny with a thing variable: it does not apply when no thing is attached.
        "deny-thing-topic": policy("""
            {"Effect":"Allow","Action":"iot:Publish","Resource":"*"},
            {"Effect":"Deny","Action":"iot:Publish","Resource":"\(arn):topic/${iot:Connection.Thing.ThingName}/locked"}
            """),
        // The literal-character variables.
        "literal-star": policy(#"{"Effect":"Allow","Action":"iot:Publish","Resource":"\#(arn):topic/${*}"}"#),
        // Attribute and certificate variables.
        "by-site": policy(#"{"Effect":"Allow","Action":"iot:Publish","Resource":"\#(arn):topic/site/${iot:Connection.Thing.Attributes[site]}/*"}"#),
        "by-cn": policy(#"{"Effect":"Allow","Action":"iot:Connect","Resource":"\#(arn):client/${iot:Certificate.Subject.CommonName}"}"#),
        "empty": policy(#"{"Effect":"Allow","Action":"iot:GetThingShadow","Resource":"*"}"#),
    ]

    static let attached = PolicyContext(clientId: "pump-17", thingName: "pump-17", thingTypeName: "Pump", isAttached: true,
                                        thingAttributes: ["site": "denver"], certificate: ["Subject.CommonName": "pump-17"])
    static let stranger = PolicyContext(clientId: "pump-18", isAttached: false)

    struct Case: CustomTestStringConvertible, Sendable {
        var policies: [String]
        var action: String
        var resource: String
        var context: PolicyContext
        var expected: PolicyDecision
        var testDescription: String { "\(policies) \(action) \(resource) as \(context.clientId ?? "-") → \(expected)" }
    }

    static func c(_ p: [String], _ action: String, _ resource: String, _ ctx: PolicyContext, _ expected: PolicyDecision) -> Case {
        Case(policies: p, action: action, resource: resource.hasPrefix("arn:") || resource == "*" ? resource : "\(arn):\(resource)", context: ctx, expected: expected)
    }

    static let cases: [Case] = [
        // default deny
        c([], "iot:Connect", "client/pump-17", attached, .implicitDeny),
        c(["empty"], "iot:Connect", "client/pump-17", attached, .implicitDeny),
        // connect with client id = thing name
        c(["connect-as-thing"], "iot:Connect", "client/pump-17", attached, .allowed),
        c(["connect-as-thing"], "iot:Connect", "client/pump-18", attached, .implicitDeny),
        c(["connect-as-thing"], "iot:Connect", "client/pump-18", stranger, .implicitDeny),  // no thing: unresolved
        c(["connect-as-thing"], "iot:Publish", "client/pump-17", attached, .implicitDeny),
        c(["connect-attached"], "iot:Connect", "client/pump-17", attached, .allowed),
        c(["connect-attached"], "iot:Connect", "client/pump-18", stranger, .implicitDeny),  // IsAttached false
        c(["connect-attached"], "iot:Connect", "client/pump-17", PolicyContext(clientId: "pump-17"), .implicitDeny),  // IsAttached unknown
        // own topics: topic/${iot:ClientId}/*
        c(["own-topics"], "iot:Connect", "client/pump-17", attached, .allowed),
        c(["own-topics"], "iot:Publish", "topic/pump-17/telemetry", attached, .allowed),
        c(["own-topics"], "iot:Publish", "topic/pump-17/a/b/c", attached, .allowed),
        c(["own-topics"], "iot:Publish", "topic/pump-18/telemetry", attached, .implicitDeny),
        c(["own-topics"], "iot:Publish", "topic/pump-17", attached, .implicitDeny),  // the prefix needs the slash
        c(["own-topics"], "iot:Receive", "topic/pump-17/cmd", attached, .allowed),
        c(["own-topics"], "iot:Subscribe", "topicfilter/pump-17/#", attached, .allowed),
        c(["own-topics"], "iot:Subscribe", "topic/pump-17/cmd", attached, .implicitDeny),  // subscribe takes topicfilter/
        c(["own-topics"], "iot:Subscribe", "topicfilter/+/cmd", attached, .implicitDeny),
        c(["own-topics"], "iot:Publish", "topic/pump-18/x", stranger, .allowed),  // ClientId needs no thing
        c(["own-topics"], "iot:Publish", "topic/x/y", PolicyContext(clientId: "*"), .implicitDeny),  // a client id * is literal
        c(["own-topics"], "iot:Publish", "topic/*/y", PolicyContext(clientId: "*"), .allowed),
        c(["own-topics"], "iot:Publish", "topic/pump-17/x", PolicyContext(), .implicitDeny),  // no client id: unresolved
        // explicit deny wins
        c(["deny-admin"], "iot:Publish", "topic/plant/a", attached, .allowed),
        c(["deny-admin"], "iot:Publish", "topic/admin/reboot", attached, .explicitDeny),
        c(["deny-admin"], "iot:Subscribe", "topicfilter/admin/#", attached, .explicitDeny),
        c(["deny-admin"], "iot:Receive", "topic/admin/reboot", attached, .allowed),  // Receive is not denied
        c(["own-topics", "deny-admin"], "iot:Publish", "topic/admin/x", PolicyContext(clientId: "admin"), .explicitDeny),  // across policies
        c(["deny-admin"], "iot:Connect", "client/anything", stranger, .allowed),
        // wildcards
        c(["wildcards"], "iot:Publish", "topic/sensors/01/temp", attached, .allowed),
        c(["wildcards"], "iot:Publish", "topic/sensors/001/temp", attached, .implicitDeny),  // ?? is two characters
        c(["wildcards"], "iot:Publish", "topic/sensors/1/temp", attached, .implicitDeny),
        c(["wildcards"], "iot:RetainPublish", "topic/sensors/01/temp", attached, .implicitDeny),  // Pub* is a prefix
        c(["wildcards"], "iot:PublishRetained", "topic/sensors/01/temp", attached, .allowed),
        c(["wildcards"], "IOT:PUBLISH", "topic/sensors/01/temp", attached, .allowed),  // actions: case-insensitive
        c(["wildcards"], "iot:Publish", "topic/SENSORS/01/temp", attached, .implicitDeny),  // resources: case-sensitive
        c(["wildcards"], "iot:Subscribe", "topicfilter/sensors/+/temp", attached, .allowed),  // + literal
        c(["wildcards"], "iot:Subscribe", "topicfilter/sensors/01/temp", attached, .implicitDeny),  // + is no wildcard
        c(["wildcards"], "iot:Subscribe", "topicfilter/alarms/#", attached, .allowed),
        c(["wildcards"], "iot:Subscribe", "topicfilter/alarms/fire", attached, .implicitDeny),  // # is no wildcard
        // NotAction, NotResource
        c(["not-action"], "iot:Connect", "client/pump-17", attached, .allowed),
        c(["not-action"], "iot:Publish", "topic/a", attached, .explicitDeny),
        c(["not-resource"], "iot:Publish", "topic/open/a", attached, .allowed),
        c(["not-resource"], "iot:Publish", "topic/secret/a", attached, .implicitDeny),
        // conditions
        c(["client-list"], "iot:Connect", "client/clientid1", PolicyContext(clientId: "clientid1"), .allowed),
        c(["client-list"], "iot:Connect", "client/clientid2", PolicyContext(clientId: "clientid2"), .allowed),
        c(["client-list"], "iot:Connect", "client/clientid3", PolicyContext(clientId: "clientid3"), .implicitDeny),
        c(["client-like"], "iot:Connect", "client/sensor-9", PolicyContext(clientId: "sensor-9"), .allowed),
        c(["client-like"], "iot:Connect", "client/pump-9", PolicyContext(clientId: "pump-9"), .implicitDeny),
        c(["client-not"], "iot:Connect", "client/pump-17", attached, .allowed),  // type Pump: the Deny does not hold
        c(["client-not"], "iot:Connect", "client/v-1", PolicyContext(clientId: "v-1", thingName: "v-1", thingTypeName: "Valve", isAttached: true), .explicitDeny),
        c(["client-not"], "iot:Connect", "client/pump-18", stranger, .explicitDeny),  // absent key: a negated operator holds
        c(["type-if-exists"], "iot:Connect", "client/pump-18", stranger, .allowed),  // absent key: IfExists holds
        c(["type-if-exists"], "iot:Connect", "client/v-1", PolicyContext(clientId: "v-1", thingTypeName: "Valve"), .implicitDeny),
        // unresolvable variables: the statement does not apply, Deny included
        c(["deny-thing-topic"], "iot:Publish", "topic/pump-17/locked", attached, .explicitDeny),
        c(["deny-thing-topic"], "iot:Publish", "topic/pump-17/locked", PolicyContext(clientId: "pump-17", isAttached: false), .allowed),
        // the literal-character variable ${*}
        c(["literal-star"], "iot:Publish", "topic/*", attached, .allowed),
        c(["literal-star"], "iot:Publish", "topic/anything", attached, .implicitDeny),
        // thing attribute and certificate variables
        c(["by-site"], "iot:Publish", "topic/site/denver/t", attached, .allowed),
        c(["by-site"], "iot:Publish", "topic/site/boulder/t", attached, .implicitDeny),
        c(["by-site"], "iot:Publish", "topic/site/denver/t", stranger, .implicitDeny),
        c(["by-cn"], "iot:Connect", "client/pump-17", attached, .allowed),
        c(["by-cn"], "iot:Connect", "client/pump-17", PolicyContext(clientId: "pump-17"), .implicitDeny),
    ]

    @Test(arguments: cases)
    func decision(_ k: Case) {
        let docs = k.policies.map { Self.policies[$0]! }
        #expect(PolicyEvaluator.evaluate(docs, action: k.action, resource: k.resource, context: k.context) == k.expected)
    }

    @Test func theTableIsLargeEnough() { #expect(Self.cases.count >= 40) }
}
