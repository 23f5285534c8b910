#!/usr/bin/env python3
"""Requests no SDK would send, signed with botocore's SigV4 signer, against a running server.

    python3 raw_requests.py ENDPOINT DATABASE FLEETDEX   (serve started with --presence-token tok --confirm-destinations)

Each case: what is sent, the status and error name expected. Prints one line per case and
`raw: P passed, F failed`.
"""
import json
import sys
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

endpoint = sys.argv[1]
creds = botocore.credentials.Credentials("AKIDLOCAL", "s3cret")
passed = failed = 0


def send(method, path, body=b"", headers=None, service="iot", sign=True):
    headers = dict(headers or {})
    req = botocore.awsrequest.AWSRequest(method=method, url=endpoint + path, data=body, headers=headers)
    if sign:
        botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=body if method != "GET" else None, headers=dict(req.headers), method=method)
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def case(name, got, status, error=None):
    global passed, failed
    code, headers, body = got
    text = body.decode("utf-8", "replace")
    name_found = headers.get("x-amzn-ErrorType") or headers.get("x-amzn-query-error", "").split(";")[0]
    if not name_found and "<Code>" in text:
        name_found = text.split("<Code>")[1].split("</Code>")[0]
    ok = code == status and (error is None or name_found == error)
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {code} {name_found} {text[:200]}")


case("iot: a malformed JSON body", send("POST", "/things/a", b"{not json", {"Content-Type": "application/json"}), 400, "SerializationException")
case("iot: a body that is not an object", send("POST", "/things/a", b"[1,2]", {"Content-Type": "application/json"}), 400, "SerializationException")
case("iot: no operation at this path", send("GET", "/no/such/path"), 400, "UnknownOperationException")
case("iot: a member of the wrong type", send("GET", "/things?maxResults=lots"), 400, "InvalidRequestException")
case("iot: an out-of-range member", send("GET", "/things?maxResults=100000"), 400, "InvalidRequestException")
case("iot: unsigned", send("GET", "/things", sign=False), 403, "MissingAuthenticationTokenException")
case("iot: over the 1 MiB body limit", send("POST", "/things/a", b"{" + b" " * (1 << 20) + b"}", {"Content-Type": "application/json"}), 413)
case("sqs: an unknown target", send("POST", "/", b"{}", {"X-Amz-Target": "AmazonSQS.Nope", "Content-Type": "application/x-amz-json-1.0"}, service="sqs"),
     400, "UnknownOperationException")
case("sqs: malformed JSON", send("POST", "/", b"{", {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}, service="sqs"),
     400, "SerializationException")
case("sns: an unknown action", send("POST", "/", b"Action=Nope&Version=2010-03-31", {"Content-Type": "application/x-www-form-urlencoded"}, service="sns"),
     400, "InvalidAction")
case("sns: a missing member", send("POST", "/", b"Action=CreateTopic&Version=2010-03-31", {"Content-Type": "application/x-www-form-urlencoded"}, service="sns"),
     400, "InvalidRequestException")
# SQS's query protocol, for older SDKs: create, send, receive, in XML.
form = {"Content-Type": "application/x-www-form-urlencoded"}
got = send("POST", "/", b"Action=CreateQueue&QueueName=old-sdk&Version=2012-11-05", form, service="sqs")
case("sqs query: CreateQueue", got, 200)
ok = b"<CreateQueueResponse" in got[2] and b"<QueueUrl>" in got[2]
got = send("POST", "/", b"Action=SendMessage&QueueUrl=old-sdk&MessageBody=hello%20there&Version=2012-11-05", form, service="sqs")
case("sqs query: SendMessage", got, 200)
got = send("POST", "/", b"Action=ReceiveMessage&QueueUrl=old-sdk&MaxNumberOfMessages=1&AttributeName.1=All&Version=2012-11-05", form, service="sqs")
case("sqs query: ReceiveMessage", got, 200)
if not (ok and b"<ReceiveMessageResult><Message>" in got[2] and b"<MessageId>" in got[2] and b"<Body>hello there</Body>" in got[2]):
    failed += 1
    print("FAIL sqs query: XML shape", got[2][:400])
else:
    passed += 1
    print("ok   sqs query: XML shape (flattened Message elements)")
got = send("POST", "/", b"Action=GetQueueUrl&QueueName=nope&Version=2012-11-05", form, service="sqs")
case("sqs query: missing queue", got, 400, "AWS.SimpleQueueService.NonExistentQueue")
# presence with the static token, and a topic rule destination's confirmation
event = b'{"clientId":"tok-client","timestamp":1796112600000,"eventType":"connected","sessionIdentifier":"s","versionNumber":1}'
case("presence: the static token", send("POST", "/_fleetdex/presence", event, {"x-fleetdex-token": "tok"}, sign=False), 200)
case("presence: a wrong token", send("POST", "/_fleetdex/presence", event, {"x-fleetdex-token": "nope"}, sign=False), 403,
     "MissingAuthenticationTokenException")
import http.server, threading, subprocess
gets = []
class Enable(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        gets.append(self.path)
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
hook = http.server.HTTPServer(("127.0.0.1", 0), Enable)
threading.Thread(target=hook.serve_forever, daemon=True).start()
enable = f"http://127.0.0.1:{hook.server_address[1]}/confirmdestination/abc"
conf = json.dumps({"arn": "arn:aws:iot:us-east-1:123456789012:ruledestination/http/x", "confirmationToken": "abc",
                   "enableUrl": enable, "messageType": "DestinationConfirmation"}).encode()
got = send("POST", "/_fleetdex/presence", conf, {"x-fleetdex-token": "tok", "x-amz-rules-engine-message-type": "DestinationConfirmation"}, sign=False)
case("presence: DestinationConfirmation recorded and enableUrl fetched", got, 200)
if json.loads(got[2]).get("enableUrlStatus") == 200 and gets == ["/confirmdestination/abc"]:
    passed += 1; print("ok   the enableUrl was GET once")
else:
    failed += 1; print("FAIL enableUrl", got[2], gets)
shown = subprocess.run([sys.argv[3], "presence-destination", "--db", sys.argv[2]], capture_output=True, text=True)
if shown.returncode == 0 and json.loads(shown.stdout)["confirmationToken"] == "abc":
    passed += 1; print("ok   fleetdex presence-destination shows the token")
else:
    failed += 1; print("FAIL presence-destination", shown.returncode, shown.stdout, shown.stderr)
# health, unauthenticated
status, _, body = send("GET", "/_fleetdex/health", sign=False)
h = json.loads(body)
case("health", (status, {}, body), 200)
print(f"raw: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
