#!/usr/bin/env python3
"""Pre-sign fleetdex-server requests for wrk (fleetdex-bench's serve stage).

Writes a Lua file that returns a list of requests {method, path, headers, body}, each signed
with SigV4 for the iot service, valid 15 minutes, so wrk can repeat them unchanged:

  --describe NAME...   DescribeThing (GET /things/NAME) as a presigned URL: botocore's
                       client.generate_presigned_url, SigV4 in the query string.
  --search QUERY...    SearchIndex (POST /indices/search, a JSON body): the Authorization
                       header signed once with botocore's SigV4Auth (a fixed X-Amz-Date). A
                       presigned POST cannot carry the body: botocore's SigV4QueryAuth moves
                       body members into the query string, where rest-json does not read them.
  --update-shadow NAME...  UpdateThingShadow (iot-data, POST /things/NAME/shadow) of a reported
                       temperature, signed like a search for the iotdata service: writes.

    python3 scripts/serve-sign.py --endpoint http://127.0.0.1:4510 --key AKIDLOCAL \
        --secret s3cret --describe thing-0000001 thing-0000002 --out describe.lua

The same requests go to OUT.json; --check OUT sends each once (http.client) and prints, as
JSON, each one's status and, for a search, the number of things it returned.
"""
import argparse
import http.client
import json
import sys
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config


def lua(s):
    # ASCII only: JSON's escapes (\" \\ \n \t) are Lua's too.
    return json.dumps(s, ensure_ascii=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--expires", type=int, default=900)
    ap.add_argument("--max-results", type=int, default=100)
    ap.add_argument("--describe", nargs="*", default=[])
    ap.add_argument("--search", nargs="*", default=[])
    ap.add_argument("--update-shadow", nargs="*", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", metavar="OUT", help="send the requests of OUT.json once each; print their statuses")
    a = ap.parse_args()
    if a.check:
        return check(a.check + ".json", a.endpoint)
    host = urlsplit(a.endpoint).netloc
    requests = []
    if a.describe:
        client = boto3.client("iot", endpoint_url=a.endpoint, region_name=a.region, aws_access_key_id=a.key,
                              aws_secret_access_key=a.secret, config=Config(signature_version="v4"))
        for name in a.describe:
            url = client.generate_presigned_url("describe_thing", Params={"thingName": name}, ExpiresIn=a.expires)
            parts = urlsplit(url)
            requests.append(("GET", parts.path + "?" + parts.query, {"Host": host}, None))
    creds = botocore.credentials.Credentials(a.key, a.secret)
    for q in a.search:
        body = json.dumps({"queryString": q, "maxResults": a.max_results}, separators=(",", ":"))
        r = botocore.awsrequest.AWSRequest(method="POST", url=a.endpoint + "/indices/search", data=body,
                                           headers={"Content-Type": "application/json"})
        botocore.auth.SigV4Auth(creds, "iot", a.region).add_auth(r)
        headers = {"Host": host, "Content-Type": "application/json", "X-Amz-Date": r.headers["X-Amz-Date"],
                   "Authorization": r.headers["Authorization"]}
        requests.append(("POST", "/indices/search", headers, body))
    for i, name in enumerate(a.update_shadow):
        body = json.dumps({"state": {"reported": {"temp": 20 + i % 10}}}, separators=(",", ":"))
        path = "/things/" + name + "/shadow"
        r = botocore.awsrequest.AWSRequest(method="POST", url=a.endpoint + path, data=body,
                                           headers={"Content-Type": "application/json"})
        botocore.auth.SigV4Auth(creds, "iotdata", a.region).add_auth(r)
        headers = {"Host": host, "Content-Type": "application/json", "X-Amz-Date": r.headers["X-Amz-Date"],
                   "Authorization": r.headers["Authorization"]}
        requests.append(("POST", path, headers, body))
    with open(a.out, "w") as fh:
        fh.write("return {\n")
        for method, path, headers, body in requests:
            hs = ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items())
            fh.write(f"  {{method = {lua(method)}, path = {lua(path)}, headers = {{{hs}}}, body = {lua(body) if body else 'nil'}}},\n")
        fh.write("}\n")
    with open(a.out + ".json", "w") as fh:
        json.dump([{"method": m, "path": p, "headers": h, "body": b} for m, p, h, b in requests], fh, indent=1)
    print(f"wrote {len(requests)} signed requests to {a.out}", file=sys.stderr)


def check(path, endpoint):
    u = urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    out = []
    for r in json.load(open(path)):
        headers = {k: v for k, v in r["headers"].items() if k != "Host"}
        conn.request(r["method"], r["path"], body=r["body"], headers=headers)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        entry = {"method": r["method"], "path": r["path"], "status": resp.status}
        if resp.status != 200:
            entry["body"] = body
        elif r["path"].startswith("/indices/search"):
            entry["things"] = len(json.loads(body).get("things", []))
        out.append(entry)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
