#!/usr/bin/env python3
"""Every operation of Model/aws-operations.json called once through boto3 against a running
fleetdex serve, each raw JSON answer checked against the operation's output shape in the table
(no unknown keys, required members, types, enums), each XML answer parsed by botocore.

    python3 boto3_every_operation.py ENDPOINT MODEL_JSON

Prints a line per operation and `every-operation: P passed, F failed`; an operation of the
table that this script never calls is a failure too.
"""
import json
import sys
import time
from datetime import datetime, timezone

import boto3
import botocore.config

endpoint, model_path = sys.argv[1:3]
model = json.load(open(model_path))["services"]
session = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s3cret", region_name="us-east-1")
cfg = botocore.config.Config(retries={"max_attempts": 1})
clients = {s: session.client(s, endpoint_url=endpoint, config=cfg) for s in ["iot", "iot-data", "sns", "sqs"]}
raw = {}


def capture(operation_model, response_dict, **_):
    raw[operation_model.name] = response_dict


for c in clients.values():
    c.meta.events.register("before-parse", capture)

passed = failed = 0
called = set()


def shape_errors(v, s, path="$"):
    t = s.get("type")
    if t == "structure":
        if not isinstance(v, dict):
            return [f"{path}: not an object"]
        errs = []
        members = s.get("members", {})
        for k in v:
            if k not in members:
                errs.append(f"{path}.{k}: not in the model")
        for k in s.get("requiredMembers", []):
            if k not in v:
                errs.append(f"{path}.{k}: required, missing")
        for k, x in v.items():
            if k in members:
                errs += shape_errors(x, members[k], f"{path}.{k}")
        return errs
    if t == "list":
        return [f"{path}: not a list"] if not isinstance(v, list) else sum((shape_errors(x, s["member"], f"{path}[{i}]") for i, x in enumerate(v)), [])
    if t == "map":
        return [f"{path}: not a map"] if not isinstance(v, dict) else sum((shape_errors(x, s["value"], f"{path}.{k}") for k, x in v.items()), [])
    if t == "string":
        if not isinstance(v, str):
            return [f"{path}: not a string"]
        return [f"{path}: {v!r} not in enum"] if "enum" in s and v not in s["enum"] else []
    if t in ("integer", "long"):
        return [] if isinstance(v, int) and not isinstance(v, bool) else [f"{path}: not an integer"]
    if t == "boolean":
        return [] if isinstance(v, bool) else [f"{path}: not a boolean"]
    if t in ("double", "float"):
        return [] if isinstance(v, (int, float)) and not isinstance(v, bool) else [f"{path}: not a number"]
    if t == "timestamp":
        return [] if isinstance(v, (int, float, str)) and not isinstance(v, bool) else [f"{path}: not a timestamp"]
    return []


def call(service, op, **kw):
    """Calls `op` and checks its raw answer; returns the parsed response (or None on error)."""
    global passed, failed
    called.add((service, op))
    client = clients[service]
    name = "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")
    name = {"create_certificate_from_csr": "create_certificate_from_csr", "register_certificate_without_c_a": "register_certificate_without_ca"}.get(name, name)
    try:
        r = getattr(client, name)(**kw)
    except Exception as e:
        failed += 1
        print(f"FAIL {service} {op}: {e}")
        return None
    shape = model[service]["operations"][op].get("output") or {"type": "structure", "members": {}}
    http = raw.get(op)
    errs = []
    if http is not None and model[service]["metadata"]["protocol"] in ("rest-json", "json"):
        body = http["body"] if isinstance(http, dict) else b""
        has_payload = any(m.get("location") == "payload" for m in shape.get("members", {}).values())
        if body and not has_payload:
            errs = shape_errors(json.loads(body), shape)
    if errs:
        failed += 1
        print(f"FAIL {service} {op}: {errs[:3]}")
    else:
        passed += 1
        print(f"ok   {service} {op}")
    return r


acct = "123456789012"
arn = lambda rest: f"arn:aws:iot:us-east-1:{acct}:{rest}"
now = datetime.now(timezone.utc)
behaviors = [{"name": "Disconnected_5m", "metric": "aws:disconnect-duration",
              "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}, "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}}]

# iot: registry
call("iot", "UpdateIndexingConfiguration", thingIndexingConfiguration={"thingIndexingMode": "REGISTRY_AND_SHADOW",
     "thingConnectivityIndexingMode": "STATUS", "deviceDefenderIndexingMode": "VIOLATIONS", "namedShadowIndexingMode": "ON"})
call("iot", "GetIndexingConfiguration")
call("iot", "CreateThingType", thingTypeName="Pump", thingTypeProperties={"searchableAttributes": ["site"]})
call("iot", "DescribeThingType", thingTypeName="Pump")
call("iot", "ListThingTypes")
call("iot", "CreateThing", thingName="p1", thingTypeName="Pump", attributePayload={"attributes": {"site": "denver", "batteryPct": "40"}})
call("iot", "CreateThing", thingName="p2", attributePayload={"attributes": {"site": "boulder", "batteryPct": "80"}})
call("iot", "DescribeThing", thingName="p1")
call("iot", "UpdateThing", thingName="p1", attributePayload={"attributes": {"rack": "r1"}, "merge": True})
call("iot", "ListThings", maxResults=1)
call("iot", "CreateThingGroup", thingGroupName="plant")
call("iot", "CreateThingGroup", thingGroupName="line", parentGroupName="plant")
call("iot", "DescribeThingGroup", thingGroupName="line")
call("iot", "UpdateThingGroup", thingGroupName="line", thingGroupProperties={"thingGroupDescription": "line one"})
call("iot", "ListThingGroups")
call("iot", "AddThingToThingGroup", thingGroupName="line", thingName="p1")
call("iot", "ListThingsInThingGroup", thingGroupName="plant", recursive=True)
call("iot", "ListThingGroupsForThing", thingName="p1")
call("iot", "RemoveThingFromThingGroup", thingGroupName="line", thingName="p1")
call("iot", "DeprecateThingType", thingTypeName="Pump")
# fleet index
call("iot", "SearchIndex", queryString="attributes.site:denver")
call("iot", "GetStatistics", queryString="thingName:p*", aggregationField="attributes.batteryPct")
call("iot", "GetCardinality", queryString="thingName:p*", aggregationField="attributes.site")
call("iot", "GetPercentiles", queryString="thingName:p*", aggregationField="attributes.batteryPct", percents=[50, 90])
call("iot", "GetBucketsAggregation", queryString="thingName:p*", aggregationField="attributes.site",
     bucketsAggregationType={"termsAggregation": {"maxBuckets": 10}})
call("iot", "DescribeIndex", indexName="AWS_Things")
call("iot", "ListIndices")
# dynamic groups
call("iot", "CreateDynamicThingGroup", thingGroupName="denver", queryString="attributes.site:denver")
call("iot", "UpdateDynamicThingGroup", thingGroupName="denver", thingGroupProperties={"thingGroupDescription": "both sites"}, queryString="attributes.site:denver OR attributes.site:boulder")
call("iot", "DeleteDynamicThingGroup", thingGroupName="denver")
# Detect
call("iot", "ValidateSecurityProfileBehaviors", behaviors=behaviors)
call("iot", "CreateSecurityProfile", securityProfileName="P", behaviors=behaviors,
     additionalMetricsToRetainV2=[{"metric": "aws:num-disconnects"}])
call("iot", "UpdateSecurityProfile", securityProfileName="P", securityProfileDescription="five minutes")
call("iot", "DescribeSecurityProfile", securityProfileName="P")
call("iot", "ListSecurityProfiles")
call("iot", "AttachSecurityProfile", securityProfileName="P", securityProfileTargetArn=arn("all/things"))
call("iot", "ListTargetsForSecurityProfile", securityProfileName="P")
call("iot", "ListSecurityProfilesForTarget", securityProfileTargetArn=arn("all/things"))
call("iot", "ListActiveViolations")
call("iot", "ListViolationEvents", startTime=datetime(2026, 11, 28, tzinfo=timezone.utc), endTime=now)
call("iot", "ListMetricValues", thingName="p1", metricName="aws:disconnect-duration",
     startTime=datetime(2026, 11, 28, tzinfo=timezone.utc), endTime=now)
try:
    clients["iot"].put_verification_state_on_violation(violationId="0" * 32, verificationState="BENIGN_POSITIVE")
except clients["iot"].exceptions.ResourceNotFoundException:
    passed += 1
    print("ok   iot PutVerificationStateOnViolation (no such violation: ResourceNotFoundException)")
    called.add(("iot", "PutVerificationStateOnViolation"))
# mitigation
call("iot", "CreateMitigationAction", actionName="quarantine", roleArn=f"arn:aws:iam::{acct}:role/m",
     actionParams={"addThingsToThingGroupParams": {"thingGroupNames": ["plant"], "overrideDynamicGroups": True}})
call("iot", "DescribeMitigationAction", actionName="quarantine")
call("iot", "ListMitigationActions")
call("iot", "StartDetectMitigationActionsTask", taskId="t1", target={"securityProfileName": "P"}, actions=["quarantine"],
     includeOnlyActiveViolations=True, clientRequestToken="tok-1")
call("iot", "DescribeDetectMitigationActionsTask", taskId="t1")
call("iot", "ListDetectMitigationActionsExecutions", taskId="t1")
call("iot", "DeleteMitigationAction", actionName="quarantine")
call("iot", "DetachSecurityProfile", securityProfileName="P", securityProfileTargetArn=arn("all/things"))
call("iot", "DeleteSecurityProfile", securityProfileName="P")
# devices
cert = call("iot", "CreateKeysAndCertificate", setAsActive=True)
call("iot", "DescribeCertificate", certificateId=cert["certificateId"])
call("iot", "ListCertificates")
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p2")])).sign(key, hashes.SHA256())
fromcsr = call("iot", "CreateCertificateFromCsr", certificateSigningRequest=csr.public_bytes(serialization.Encoding.PEM).decode(), setAsActive=False)
self_signed = x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "own")])).issuer_name(
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "own")])).public_key(key.public_key()).serial_number(7).not_valid_before(
    datetime(2026, 1, 1)).not_valid_after(datetime(2030, 1, 1)).sign(key, hashes.SHA256())
call("iot", "RegisterCertificateWithoutCA", certificatePem=self_signed.public_bytes(serialization.Encoding.PEM).decode(), status="ACTIVE")
call("iot", "UpdateCertificate", certificateId=fromcsr["certificateId"], newStatus="REVOKED")
call("iot", "DeleteCertificate", certificateId=fromcsr["certificateId"])
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": arn("client/${iot:Connection.Thing.ThingName}")}]})
call("iot", "CreatePolicy", policyName="connect", policyDocument=doc)
call("iot", "GetPolicy", policyName="connect")
call("iot", "ListPolicies")
call("iot", "CreatePolicyVersion", policyName="connect", policyDocument=doc, setAsDefault=True)
call("iot", "ListPolicyVersions", policyName="connect")
call("iot", "GetPolicyVersion", policyName="connect", policyVersionId="2")
call("iot", "SetDefaultPolicyVersion", policyName="connect", policyVersionId="1")
call("iot", "DeletePolicyVersion", policyName="connect", policyVersionId="2")
call("iot", "AttachPolicy", policyName="connect", target=cert["certificateArn"])
call("iot", "ListAttachedPolicies", target=cert["certificateArn"])
call("iot", "ListTargetsForPolicy", policyName="connect")
call("iot", "AttachThingPrincipal", thingName="p1", principal=cert["certificateArn"])
call("iot", "ListThingPrincipals", thingName="p1")
call("iot", "ListPrincipalThings", principal=cert["certificateArn"])
call("iot", "TestAuthorization", principal=cert["certificateArn"], clientId="p1",
     authInfos=[{"actionType": "CONNECT", "resources": [arn("client/p1")]}])
call("iot", "DescribeEndpoint", endpointType="iot:Data-ATS")
call("iot", "DetachThingPrincipal", thingName="p1", principal=cert["certificateArn"])
call("iot", "DetachPolicy", policyName="connect", target=cert["certificateArn"])
call("iot", "DeletePolicy", policyName="connect")
# iot-data
call("iot-data", "UpdateThingShadow", thingName="p1", payload=b'{"state":{"reported":{"temp":71.5}}}')
call("iot-data", "UpdateThingShadow", thingName="p1", shadowName="config", payload=b'{"state":{"desired":{"rate":5}}}')
call("iot-data", "GetThingShadow", thingName="p1")
call("iot-data", "ListNamedShadowsForThing", thingName="p1")
call("iot-data", "Publish", topic="$aws/things/p1/shadow/name/config/update", payload=b'{"state":{"desired":{"rate":6}}}')
call("iot-data", "DeleteThingShadow", thingName="p1", shadowName="config")
# sns and sqs
topic = call("sns", "CreateTopic", Name="T")["TopicArn"]
call("sns", "ListTopics")
q = call("sqs", "CreateQueue", QueueName="Q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
call("sqs", "ListQueues")
call("sqs", "GetQueueUrl", QueueName="Q")
qarn = call("sqs", "GetQueueAttributes", QueueUrl=q, AttributeNames=["All"])["Attributes"]["QueueArn"]
call("sqs", "SetQueueAttributes", QueueUrl=q, Attributes={"VisibilityTimeout": "10"})
sub = call("sns", "Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
call("sns", "ListSubscriptions")
call("sns", "ListSubscriptionsByTopic", TopicArn=topic)
call("sns", "Publish", TopicArn=topic, Message="hello")
call("sqs", "SendMessage", QueueUrl=q, MessageBody="direct")
m = call("sqs", "ReceiveMessage", QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
call("sqs", "ChangeMessageVisibility", QueueUrl=q, ReceiptHandle=m[0]["ReceiptHandle"], VisibilityTimeout=0)
call("sqs", "DeleteMessage", QueueUrl=q, ReceiptHandle=m[-1]["ReceiptHandle"])
call("sqs", "PurgeQueue", QueueUrl=q)
call("sns", "Unsubscribe", SubscriptionArn=sub)
call("sns", "DeleteTopic", TopicArn=topic)
call("sqs", "DeleteQueue", QueueUrl=q)
# clean-up of the registry
call("iot", "DeleteThing", thingName="p2")
call("iot", "DeleteThingGroup", thingGroupName="line")
call("iot", "DeleteThing", thingName="p1")
call("iot", "DeleteThingType", thingTypeName="Pump")

never = [(s, o) for s, v in model.items() for o in v["operations"] if (s, o) not in called]
for s, o in never:
    failed += 1
    print(f"FAIL {s} {o}: never called")
print(f"every-operation: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
