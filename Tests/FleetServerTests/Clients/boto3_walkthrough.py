#!/usr/bin/env python3
"""The Disconnect Duration walkthrough through boto3 against a running fleetdex serve.

    python3 boto3_walkthrough.py ENDPOINT DATABASE FLEETDEX_BINARY

Signed with AKIDLOCAL/s3cret in us-east-1. Drives time with `fleetdex evaluate --at` on the
same database (the server runs with --no-evaluate). Prints one line per check and, last,
`boto3: P passed, F failed`; exits 1 when anything failed.
"""
import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import boto3
import botocore.config
from botocore.exceptions import ClientError

endpoint, database, fleetdex = sys.argv[1:4]
session = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s3cret", region_name="us-east-1")
cfg = botocore.config.Config(retries={"max_attempts": 1})
iot = session.client("iot", endpoint_url=endpoint, config=cfg)
data = session.client("iot-data", endpoint_url=endpoint, config=cfg)
sns = session.client("sns", endpoint_url=endpoint, config=cfg)
sqs = session.client("sqs", endpoint_url=endpoint, config=cfg)
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, None


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def evaluate(ms):
    out = subprocess.run([fleetdex, "evaluate", "--db", database, "--at", iso(ms)], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}


def presence(events):
    """Events as an AWS IoT topic rule's HTTP action sends them (SigV4 for iot)."""
    import botocore.auth, botocore.awsrequest, urllib.request
    body = json.dumps(events).encode()
    req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/_fleetdex/presence", data=body,
                                         headers={"Content-Type": "application/json"})
    botocore.auth.SigV4Auth(session.get_credentials(), "iot", "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=body, headers=dict(req.headers), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


acct = "123456789012"
topic = sns.create_topic(Name="Disconnected_things_notification")["TopicArn"]
check("sns create_topic", topic == f"arn:aws:sns:us-east-1:{acct}:Disconnected_things_notification", topic)
queue = sqs.create_queue(QueueName="Disconnect_thing_notification_queue")["QueueUrl"]
check("sqs create_queue", queue.endswith("/Disconnect_thing_notification_queue"), queue)
qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
check("sqs get_queue_attributes", qarn == f"arn:aws:sqs:us-east-1:{acct}:Disconnect_thing_notification_queue", qarn)
sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
check("sns subscribe", sub.startswith(topic + ":"), sub)
subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
check("sns list_subscriptions_by_topic", [s["Endpoint"] for s in subs] == [qarn], subs)
check("sns list_topics", [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic])

iot.update_indexing_configuration(thingIndexingConfiguration={
    "thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS", "deviceDefenderIndexingMode": "VIOLATIONS"})
cfgd = iot.get_indexing_configuration()["thingIndexingConfiguration"]
check("iot get_indexing_configuration", cfgd["thingConnectivityIndexingMode"] == "STATUS", cfgd)
behaviors = [{"name": "Disconnected_5m", "metric": "aws:disconnect-duration",
              "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                           "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}}]
p = iot.create_security_profile(securityProfileName="Disconnect_duration_5m", behaviors=behaviors,
                                alertTargets={"SNS": {"alertTargetArn": topic, "roleArn": f"arn:aws:iam::{acct}:role/alerts"}})
check("iot create_security_profile", p["securityProfileArn"].endswith("securityprofile/Disconnect_duration_5m"), p)
iot.attach_security_profile(securityProfileName="Disconnect_duration_5m",
                            securityProfileTargetArn=f"arn:aws:iot:us-east-1:{acct}:all/things")
targets = iot.list_targets_for_security_profile(securityProfileName="Disconnect_duration_5m")["securityProfileTargets"]
check("iot list_targets_for_security_profile", [t["arn"] for t in targets] == [f"arn:aws:iot:us-east-1:{acct}:all/things"], targets)
t = iot.create_thing(thingName="test_thing", attributePayload={"attributes": {"site": "denver"}})
check("iot create_thing", t["thingArn"].endswith(":thing/test_thing"), t)
d = iot.describe_thing(thingName="test_thing")
check("iot describe_thing", d["attributes"] == {"site": "denver"} and d["version"] == 1, d)
iot.update_thing(thingName="test_thing", attributePayload={"attributes": {"rack": "r1"}, "merge": True}, expectedVersion=1)
check("iot update_thing (PATCH, merge)", iot.describe_thing(thingName="test_thing")["attributes"] == {"site": "denver", "rack": "r1"})

# errors as AWS sends them
code = error_code(iot.describe_thing, thingName="nope")
check("iot not found -> ResourceNotFoundException 404", code == ("ResourceNotFoundException", 404), code)
code = error_code(iot.create_thing, thingName="test_thing", attributePayload={"attributes": {"site": "boulder"}})
check("iot conflict -> ResourceAlreadyExistsException 409", code == ("ResourceAlreadyExistsException", 409), code)
code = error_code(iot.search_index, queryString="attributes.site:(")
check("iot bad query -> InvalidQueryException 400", code == ("InvalidQueryException", 400), code)
code = error_code(sns.publish, TopicArn=f"arn:aws:sns:us-east-1:{acct}:nope", Message="x")
check("sns not found -> NotFound 404", code == ("NotFound", 404), code)
code = error_code(sqs.get_queue_url, QueueName="nope")
check("sqs missing queue -> AWS.SimpleQueueService.NonExistentQueue", code[0] == "AWS.SimpleQueueService.NonExistentQueue", code)
bad = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="wrong", region_name="us-east-1")
code = error_code(bad.client("iot", endpoint_url=endpoint, config=cfg).list_things)
check("iot wrong secret -> InvalidSignatureException 403", code == ("InvalidSignatureException", 403), code)
code = error_code(bad.client("sns", endpoint_url=endpoint, config=cfg).list_topics)
check("sns wrong secret -> SignatureDoesNotMatch 403", code == ("SignatureDoesNotMatch", 403), code)
code = error_code(bad.client("sqs", endpoint_url=endpoint, config=cfg).list_queues)
check("sqs wrong secret -> 403", code[1] == 403, code)
other = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s3cret", region_name="eu-west-1")
code = error_code(other.client("iot", endpoint_url=endpoint, config=cfg).list_things)
check("iot wrong region -> 403", code[1] == 403, code)
unknown = boto3.session.Session(aws_access_key_id="AKIDOTHER", aws_secret_access_key="s3cret", region_name="us-east-1")
code = error_code(unknown.client("iot", endpoint_url=endpoint, config=cfg).list_things)
check("iot unknown key -> UnrecognizedClientException 403", code == ("UnrecognizedClientException", 403), code)

# pagination: a botocore paginator, and search_index's plain nextToken loop
for i in range(7):
    iot.create_thing(thingName=f"pump-{i}", attributePayload={"attributes": {"site": "boulder"}})
names = [x["thingName"] for page in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 3}) for x in page["things"]]
check("iot list_things paginator", sorted(names) == sorted([f"pump-{i}" for i in range(7)] + ["test_thing"]), names)
found, token = [], None
while True:
    kw = {"queryString": "attributes.site:boulder", "maxResults": 2}
    if token:
        kw["nextToken"] = token
    r = iot.search_index(**kw)
    found += [x["thingName"] for x in r["things"]]
    token = r.get("nextToken")
    if not token:
        break
check("iot search_index nextToken loop", found == [f"pump-{i}" for i in range(7)], found)

# presence over HTTP, evaluation by the clock of `fleetdex evaluate --at`
t0 = (int(time.time() * 1000) // 300_000 - 6) * 300_000
status, r = presence([
    {"clientId": "test_thing", "timestamp": t0 + 60_000, "eventType": "connected", "sessionIdentifier": "s1",
     "principalIdentifier": "p", "versionNumber": 1},
    {"clientId": "test_thing", "timestamp": t0 + 120_000, "eventType": "disconnected", "sessionIdentifier": "s1",
     "principalIdentifier": "p", "versionNumber": 1, "clientInitiatedDisconnect": False, "disconnectReason": "CONNECTION_LOST"},
    {"clientId": "x"},
])
check("presence: good lines kept, the bad one named", status == 200 and r["accepted"] == 2 and r["rejected"] == 1
      and r["rejectedLines"][0]["line"] == 3, (status, r))
e = evaluate(t0 + 300_000)
check("no alarm at 4 minutes", e.get("violationsRaised") == 0, e)
e = evaluate(t0 + 600_000)
check("alarm at 9 minutes", e.get("violationsRaised") == 1, e)
v = iot.list_active_violations(securityProfileName="Disconnect_duration_5m")["activeViolations"]
check("iot list_active_violations", [x["thingName"] for x in v] == ["test_thing"], v)
s = iot.search_index(queryString="deviceDefender.Disconnect_duration_5m.*.inViolation:true")["things"]
check("iot search_index inViolation", [x["thingName"] for x in s] == ["test_thing"], s)
m = iot.list_metric_values(thingName="test_thing", metricName="aws:disconnect-duration",
                           startTime=datetime.fromtimestamp(t0 / 1000, tz=timezone.utc),
                           endTime=datetime.fromtimestamp((t0 + 900_000) / 1000, tz=timezone.utc))["metricDatumList"]
check("iot list_metric_values", [x["value"]["count"] for x in m] == [3, 8], m)
g = iot.create_dynamic_thing_group(thingGroupName="Disconnected_things",
                                   queryString="deviceDefender.Disconnect_duration_5m.*.inViolation:true")
check("iot create_dynamic_thing_group", g["thingGroupName"] == "Disconnected_things", g)
members = iot.list_things_in_thing_group(thingGroupName="Disconnected_things")["things"]
check("the dynamic group finds the thing", members == ["test_thing"], members)
msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
body = json.loads(json.loads(msgs[0]["Body"])["Message"]) if msgs else {}
check("sqs receive_message: the in-alarm notification", body.get("violationEventType") == "in-alarm"
      and body.get("thingName") == "test_thing", msgs)
if msgs:
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"])
started = time.time()
empty = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
check("sqs long poll waits on an empty queue", empty == [] and time.time() - started >= 0.9, time.time() - started)

# iot-data shadows
data.update_thing_shadow(thingName="test_thing", payload=json.dumps({"state": {"reported": {"temp": 71.5}}}).encode())
doc = json.loads(data.get_thing_shadow(thingName="test_thing")["payload"].read())
check("iot-data get_thing_shadow", doc["state"]["reported"]["temp"] == 71.5, doc)
data.update_thing_shadow(thingName="test_thing", shadowName="config", payload=b'{"state":{"desired":{"rate":5}}}')
data.publish(topic="$aws/things/test_thing/shadow/name/battery/update", payload=b'{"state":{"reported":{"pct":80}}}')
names = data.list_named_shadows_for_thing(thingName="test_thing")["results"]
check("iot-data list_named_shadows_for_thing (one from publish)", names == ["battery", "config"], names)
code = error_code(data.publish, topic="a/b", payload=b"x")
check("iot-data publish elsewhere -> InvalidRequestException", code[0] == "InvalidRequestException", code)
check("iot search by shadow", [x["thingName"] for x in iot.search_index(queryString="shadow.reported.temp>70")["things"]] == ["test_thing"])

# devices: a certificate from the database's CA, a policy, the thing's principal
cert = iot.create_keys_and_certificate(setAsActive=True)
check("iot create_keys_and_certificate", cert["certificatePem"].startswith("-----BEGIN CERTIFICATE-----")
      and "PRIVATE KEY" in cert["keyPair"]["PrivateKey"] and len(cert["certificateId"]) == 64, cert.get("certificateId"))
check("iot describe_certificate", iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]["status"] == "ACTIVE")
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
                                                             "Resource": f"arn:aws:iot:us-east-1:{acct}:client/test_thing"}]})
iot.create_policy(policyName="test_thing_policy", policyDocument=policy)
iot.attach_policy(policyName="test_thing_policy", target=cert["certificateArn"])
iot.attach_thing_principal(thingName="test_thing", principal=cert["certificateArn"])
check("iot list_thing_principals (x-amzn-principal header)",
      iot.list_thing_principals(thingName="test_thing")["principals"] == [cert["certificateArn"]])
check("iot list_attached_policies", [p["policyName"] for p in iot.list_attached_policies(target=cert["certificateArn"])["policies"]] == ["test_thing_policy"])
auth = iot.test_authorization(principal=cert["certificateArn"], clientId="test_thing",
                              authInfos=[{"actionType": "CONNECT", "resources": [f"arn:aws:iot:us-east-1:{acct}:client/test_thing"]},
                                         {"actionType": "CONNECT", "resources": [f"arn:aws:iot:us-east-1:{acct}:client/other"]}])
check("iot test_authorization", [r["authDecision"] for r in auth["authResults"]] == ["ALLOWED", "IMPLICIT_DENY"], auth)
check("iot describe_endpoint", iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == "localhost")
import urllib.request
root = urllib.request.urlopen(endpoint + "/_fleetdex/root-ca.pem").read().decode()
check("GET /_fleetdex/root-ca.pem", root.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in root)
code = error_code(iot.delete_thing, thingName="test_thing")
check("iot delete_thing refused while a principal is attached", code[0] == "InvalidRequestException", code)
iot.detach_thing_principal(thingName="test_thing", principal=cert["certificateArn"])
code = error_code(iot.delete_certificate, certificateId=cert["certificateId"])
check("iot delete_certificate refused while ACTIVE", code == ("CertificateStateException", 406), code)
iot.detach_policy(policyName="test_thing_policy", target=cert["certificateArn"])
iot.update_certificate(certificateId=cert["certificateId"], newStatus="INACTIVE")
iot.delete_certificate(certificateId=cert["certificateId"])
iot.delete_policy(policyName="test_thing_policy")

# clean-up
iot.delete_dynamic_thing_group(thingGroupName="Disconnected_things")
iot.delete_security_profile(securityProfileName="Disconnect_duration_5m")
iot.delete_thing(thingName="test_thing")
code = error_code(iot.describe_thing, thingName="test_thing")
check("iot delete_thing", code[0] == "ResourceNotFoundException", code)
sns.delete_topic(TopicArn=topic)
sqs.delete_queue(QueueUrl=queue)
check("sqs delete_queue", sqs.list_queues().get("QueueUrls", []) == [])

print(f"boto3: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
