// The Disconnect Duration walkthrough with the AWS IoT Device SDK v2 as the device, against a
// running `fleetdex serve` (argv: http endpoint, mqtt port, database, fleetdex binary, dir).
// boto3 makes the topic, queue, profile, certificate, policy and principal; the device
// connects over MQTT and disconnects; `fleetdex evaluate --at` drives the boundaries after the
// disconnect: no alarm at the first, in alarm at the second (SNS → SQS), the dynamic group
// finds the thing, and a reconnect clears it. Prints `CHECK name ok|FAILED detail` lines.

enum WalkthroughScript {
    static let python = #"""
import json, subprocess, sys, time, urllib.request
from datetime import datetime, timezone
import boto3, botocore.config
from awsiot import mqtt_connection_builder

endpoint, mqtt_port, database, fleetdex, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s3cret", region_name="us-east-1")
cfg = botocore.config.Config(retries={"max_attempts": 1})
iot, sns, sqs = (s.client(n, endpoint_url=endpoint, config=cfg) for n in ("iot", "sns", "sqs"))
acct = "123456789012"
def check(name, ok, detail=""):
    print("CHECK", name, "ok" if ok else "FAILED %r" % (detail,), flush=True)
def evaluate(ms):
    iso = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = subprocess.run([fleetdex, "evaluate", "--db", database, "--at", iso], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}
def connected(want):
    end = time.time() + 15
    while time.time() < end:
        r = iot.search_index(queryString="thingName:test_thing AND connectivity.connected:%s" % ("true" if want else "false"))
        if r["things"]: return r["things"][0]
        time.sleep(0.1)
    return None

topic = sns.create_topic(Name="Disconnected_things_notification")["TopicArn"]
queue = sqs.create_queue(QueueName="Disconnect_thing_notification_queue")["QueueUrl"]
qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
iot.update_indexing_configuration(thingIndexingConfiguration={
    "thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS", "deviceDefenderIndexingMode": "VIOLATIONS"})
behaviors = [{"name": "Disconnected_5m", "metric": "aws:disconnect-duration",
              "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                           "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}}]
iot.create_security_profile(securityProfileName="Disconnect_duration_5m", behaviors=behaviors,
                            alertTargets={"SNS": {"alertTargetArn": topic, "roleArn": f"arn:aws:iam::{acct}:role/alerts"}})
iot.attach_security_profile(securityProfileName="Disconnect_duration_5m", securityProfileTargetArn=f"arn:aws:iot:us-east-1:{acct}:all/things")
iot.create_thing(thingName="test_thing")
iot.create_dynamic_thing_group(thingGroupName="Disconnected_things", queryString="deviceDefender.Disconnect_duration_5m.*.inViolation:true")

cert = iot.create_keys_and_certificate(setAsActive=True)
open(workdir + "/c.pem", "w").write(cert["certificatePem"])
open(workdir + "/k.pem", "w").write(cert["keyPair"]["PrivateKey"])
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
          "Resource": f"arn:aws:iot:us-east-1:{acct}:client/test_thing"}]}
iot.create_policy(policyName="test_thing_policy", policyDocument=json.dumps(policy))
iot.attach_policy(policyName="test_thing_policy", target=cert["certificateArn"])
iot.attach_thing_principal(thingName="test_thing", principal=cert["certificateArn"])
check("describe-endpoint", iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == "localhost")
open(workdir + "/root-ca.pem", "wb").write(urllib.request.urlopen(endpoint + "/_fleetdex/root-ca.pem").read())

def device():
    return mqtt_connection_builder.mtls_from_path(endpoint="localhost", port=mqtt_port, cert_filepath=workdir + "/c.pem",
        pri_key_filepath=workdir + "/k.pem", ca_filepath=workdir + "/root-ca.pem", client_id="test_thing")
c = device(); c.connect().result(timeout=10)
up = connected(True)
check("connected in search", up is not None and up["connectivity"]["connected"] is True, up)
c.disconnect().result(timeout=10)
down = connected(False)
check("disconnected in search", down is not None and down["connectivity"].get("disconnectReason") == "CLIENT_INITIATED_DISCONNECT", down)
d = down["connectivity"]["timestamp"] if down else int(time.time() * 1000)
b1 = (d // 300_000 + 1) * 300_000
e = evaluate(b1)
check("no alarm at the first boundary (%d s disconnected)" % ((b1 - d) // 1000), e.get("violationsRaised") == 0, e)
e = evaluate(b1 + 300_000)
check("in alarm at the second (%d s)" % ((b1 + 300_000 - d) // 1000), e.get("violationsRaised") == 1, e)
v = iot.list_active_violations(securityProfileName="Disconnect_duration_5m")["activeViolations"]
check("list-active-violations", [x["thingName"] for x in v] == ["test_thing"], v)
members = iot.list_things_in_thing_group(thingGroupName="Disconnected_things")["things"]
check("the dynamic group finds the thing", members == ["test_thing"], members)
msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
body = json.loads(json.loads(msgs[0]["Body"])["Message"]) if msgs else {}
check("the in-alarm SNS message", body.get("violationEventType") == "in-alarm" and body.get("thingName") == "test_thing", msgs)
c = device(); c.connect().result(timeout=10)
check("reconnected in search", connected(True) is not None)
e = evaluate(b1 + 600_000)
check("reconnect clears it", e.get("violationsCleared") == 1, e)
members = iot.list_things_in_thing_group(thingGroupName="Disconnected_things")["things"]
check("the dynamic group lets it go", members == [], members)
c.disconnect().result(timeout=10)
print("DONE", flush=True)
"""#
}
