#!/usr/bin/env python3
"""fleetdex-server side by side with moto's server (fleetdex-bench's serve stage).

The same client for both servers, every query of the query file paged to the end (maxResults
--page-size; moto ignores it and answers one page). First boto3 (one client per server,
keep-alive) runs each query once on each: the result sets are compared (as MotoComparison
does: the same names, else a difference the query's note explains with "moto:") and timed.
Then --rounds rounds of the whole list are timed with a plain keep-alive client (http.client,
each page signed with botocore's SigV4Auth, the JSON parsed with json.loads), which leaves
out botocore's response parsing (about 30 us a thing: most of a 20,000-thing answer's time,
whichever server sent it). moto_fleet.py (beside the query file) is used to read the files;
the fleet is loaded into moto with its calls from --load-threads clients.

With --requests-out PREFIX, every page request of every query (fleetdex: each page with the
nextToken of the one before; moto: its one page) is written signed, the Authorization header
with a fixed X-Amz-Date (valid 15 minutes), to PREFIX-fleetdex.json and PREFIX-moto.json: a
compiled client (fleetdex-bench) then replays the whole list without Python's own time per page
(http.client, json.loads) in either server's figure.

    python3 scripts/serve-moto.py --fleetdex http://127.0.0.1:P1 --moto http://127.0.0.1:P2 \
        --key AKIDLOCAL --secret s3cret --dataset moto_fleet.jsonl --queries moto_queries.txt --out r.json
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time


def load_parallel(moto_fleet, make_client, fleet, threads):
    """moto_fleet.load_into_moto's calls, the things and their memberships from `threads` clients at once
    (moto_server answers each on a thread of its own; one client at a time left both processes half idle)."""
    from concurrent.futures import ThreadPoolExecutor
    t0 = time.perf_counter()
    head = make_client()
    head.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    types = sorted({r["thingTypeName"] for r in fleet if r["thingTypeName"]})
    groups = sorted({g for r in fleet for g in r["thingGroupNames"]})
    for t in types:
        head.create_thing_type(thingTypeName=t)
    for g in groups:
        head.create_thing_group(thingGroupName=g)

    def part(records):
        client = make_client()
        n = 0
        for r in records:
            kw = {"thingName": r["thingName"]}
            if r["thingTypeName"]:
                kw["thingTypeName"] = r["thingTypeName"]
            if r["attributes"]:
                kw["attributePayload"] = {"attributes": r["attributes"]}
            client.create_thing(**kw)
            for g in r["thingGroupNames"]:
                client.add_thing_to_thing_group(thingGroupName=g, thingName=r["thingName"])
                n += 1
        return n

    with ThreadPoolExecutor(threads) as pool:
        memberships = sum(pool.map(part, [fleet[i::threads] for i in range(threads)]))
    return {"things": len(fleet), "thing_types": len(types), "thing_groups": len(groups),
            "memberships": memberships, "load_seconds": round(time.perf_counter() - t0, 3), "load_threads": threads}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fleetdex", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--page-size", type=int, default=500)
    ap.add_argument("--load-threads", type=int, default=1, help="moto is not thread-safe: 2 or more fail (OrderedDict mutated during iteration)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests-out", metavar="PREFIX", help="write every page of every query, signed, for a replay")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.queries)))
    import moto_fleet  # sets dummy credentials in the environment; ours are passed explicitly
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=1, read_timeout=600)
    fx = boto3.client("iot", endpoint_url=a.fleetdex, region_name=a.region, aws_access_key_id=a.key,
                      aws_secret_access_key=a.secret, config=cfg)
    mo = boto3.client("iot", endpoint_url=a.moto, region_name=a.region, aws_access_key_id="testing",
                      aws_secret_access_key="testing", config=cfg)
    fleet = moto_fleet.read_dataset(a.dataset)
    queries = moto_fleet.read_queries(a.queries)
    load = load_parallel(moto_fleet, lambda: boto3.client("iot", endpoint_url=a.moto, region_name=a.region, aws_access_key_id="testing",
                                                         aws_secret_access_key="testing", config=cfg), fleet, a.load_threads)
    print(f"serve-moto: loaded {load['things']} things into moto in {load['load_seconds']} s", file=sys.stderr)

    def run(client, q):
        try:
            return moto_fleet.run_query(client, q, a.page_size, 100000)
        except Exception as exc:  # noqa: BLE001 - an error is an answer too
            return {"error": moto_fleet._classify_error(exc)}

    per_query = []
    agree = documented = 0
    differ = []
    for q in queries:
        t0 = time.perf_counter()
        f = run(fx, q["query"])
        t1 = time.perf_counter()
        m = run(mo, q["query"])
        t2 = time.perf_counter()
        same = "error" not in f and "error" not in m and f["things"] == m["things"]
        note = q["note"]
        if same:
            agree += 1
        elif "moto:" in note:
            documented += 1
        else:
            differ.append(q["query"])
        per_query.append({"query": q["query"], "agree": same, "documented": not same and "moto:" in note,
                          "count": f.get("count"), "motoCount": m.get("count"),
                          "error": f.get("error"), "motoError": m.get("error"), "fleetdexMs": [], "motoMs": [],
                          "boto3FleetdexMs": round((t1 - t0) * 1000, 3), "boto3MotoMs": round((t2 - t1) * 1000, 3)})

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    from urllib.parse import urlsplit

    def raw_client(endpoint, key, secret):
        u = urlsplit(endpoint)
        conn = http.client.HTTPConnection(u.hostname, u.port)
        auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "iot", a.region)

        def search(q, pages=None):
            names, token = [], None
            while True:
                doc = {"indexName": "AWS_Things", "queryString": q, "maxResults": a.page_size}
                if token:
                    doc["nextToken"] = token
                body = json.dumps(doc)
                r = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/indices/search", data=body,
                                                   headers={"Content-Type": "application/json"})
                auth.add_auth(r)
                headers = dict(r.headers.items())
                if pages is not None:
                    pages.append({"method": "POST", "path": "/indices/search", "body": body,
                                  "headers": {"Host": u.netloc, **{k: v for k, v in headers.items() if k.lower() != "host"}}})
                conn.request("POST", "/indices/search", body=body, headers=headers)
                resp = conn.getresponse()
                data = json.loads(resp.read())
                if resp.status != 200:
                    return None
                names += [t["thingName"] for t in data.get("things", [])]
                token = data.get("nextToken")
                if not token:
                    return sorted(set(names))
        return search

    def rounds(search, key):
        total = 0.0
        for _ in range(a.rounds):
            for entry in per_query:
                t0 = time.perf_counter()
                search(entry["query"])
                dt = time.perf_counter() - t0
                total += dt
                entry[key].append(round(dt * 1000, 3))
        return total

    fx_raw, mo_raw = raw_client(a.fleetdex, a.key, a.secret), raw_client(a.moto, "testing", "testing")
    recorded = {"fleetdex": [], "moto": []}  # the pages this pass sends, for --requests-out
    for entry in per_query:  # the plain client gets the same answers as boto3
        fx_pages, mo_pages = [], []
        entry["rawAgree"] = fx_raw(entry["query"], fx_pages) == mo_raw(entry["query"], mo_pages)
        recorded["fleetdex"].append({"query": entry["query"], "pages": fx_pages})
        recorded["moto"].append({"query": entry["query"], "pages": mo_pages})
    if a.requests_out:
        for name, queries_pages in recorded.items():
            with open(f"{a.requests_out}-{name}.json", "w") as fh:
                json.dump({"server": name, "queries": queries_pages}, fh)
    fx_total = rounds(fx_raw, "fleetdexMs")
    mo_total = rounds(mo_raw, "motoMs")
    n = len(per_query) * a.rounds
    ratios = [statistics.median(e["motoMs"]) / statistics.median(e["fleetdexMs"]) for e in per_query
              if statistics.median(e["fleetdexMs"]) > 0]
    small = [e for e in per_query if (e["count"] or 0) <= a.page_size]
    s_fx, s_mo = sum(sum(e["fleetdexMs"]) for e in small), sum(sum(e["motoMs"]) for e in small)
    b_fx, b_mo = sum(e["boto3FleetdexMs"] for e in per_query), sum(e["boto3MotoMs"] for e in per_query)
    doc = {
        "client": f"python http.client keep-alive, botocore {botocore.__version__} SigV4Auth per page, json.loads; "
                  f"each query paged to the end with maxResults {a.page_size}",
        "load": load, "rounds": a.rounds, "queries": len(per_query),
        "agree": agree, "documented": documented, "differ": differ,
        "rawAgree": sum(1 for e in per_query if e["rawAgree"]),
        "fleetdexQueriesPerSecond": n / fx_total, "motoQueriesPerSecond": n / mo_total,
        "speedup": mo_total / fx_total, "medianPerQuerySpeedup": statistics.median(ratios) if ratios else 0,
        "onePage": {"queries": len(small), "speedup": s_mo / s_fx if s_fx else 0},
        "boto3": {"fleetdexQueriesPerSecond": len(per_query) / (b_fx / 1000), "motoQueriesPerSecond": len(per_query) / (b_mo / 1000),
                  "speedup": b_mo / b_fx},
        "perQuery": per_query,
    }
    with open(a.out, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"serve-moto: boto3 once: fleetdex x{doc['boto3']['speedup']:.1f}; http.client: fleetdex {doc['fleetdexQueriesPerSecond']:.1f} q/s, moto {doc['motoQueriesPerSecond']:.2f} q/s, "
          f"x{doc['speedup']:.1f}; agree {agree}, documented {documented}, differ {len(differ)}", file=sys.stderr)


if __name__ == "__main__":
    main()
