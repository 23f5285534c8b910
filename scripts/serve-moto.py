#!/usr/bin/env python3
"""fleetdex-server side by side with moto's server (fleetdex-bench's serve stage).

One client for both: boto3 (one client per server, keep-alive), every query of the query
file paged to the end (maxResults --page-size; moto ignores it and answers one page). First
the result sets are compared (as MotoComparison does: the same names, else a difference the
query's note explains with "moto:"), then --rounds rounds of the whole query list are timed
against each server. moto_fleet.py (beside the query file) loads the fleet into moto.

    python3 scripts/serve-moto.py --fleetdex http://127.0.0.1:P1 --moto http://127.0.0.1:P2 \
        --key AKIDLOCAL --secret s3cret --dataset moto_fleet.jsonl --queries moto_queries.txt --out r.json
"""
import argparse
import json
import os
import statistics
import sys
import time


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
    ap.add_argument("--out", required=True)
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
    load = moto_fleet.load_into_moto(mo, fleet)
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
        f, m = run(fx, q["query"]), run(mo, q["query"])
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
                          "error": f.get("error"), "motoError": m.get("error"), "fleetdexMs": [], "motoMs": []})

    def rounds(client, key):
        total = 0.0
        for _ in range(a.rounds):
            for entry in per_query:
                t0 = time.perf_counter()
                run(client, entry["query"])
                dt = time.perf_counter() - t0
                total += dt
                entry[key].append(round(dt * 1000, 3))
        return total

    fx_total = rounds(fx, "fleetdexMs")
    mo_total = rounds(mo, "motoMs")
    n = len(per_query) * a.rounds
    ratios = [statistics.median(e["motoMs"]) / statistics.median(e["fleetdexMs"]) for e in per_query
              if statistics.median(e["fleetdexMs"]) > 0]
    doc = {
        "client": f"boto3 {boto3.__version__}, one client per server (keep-alive), each query paged to the end with maxResults {a.page_size}",
        "load": load, "rounds": a.rounds, "queries": len(per_query),
        "agree": agree, "documented": documented, "differ": differ,
        "fleetdexQueriesPerSecond": n / fx_total, "motoQueriesPerSecond": n / mo_total,
        "speedup": mo_total / fx_total, "medianPerQuerySpeedup": statistics.median(ratios) if ratios else 0,
        "perQuery": per_query,
    }
    with open(a.out, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"serve-moto: fleetdex {doc['fleetdexQueriesPerSecond']:.1f} q/s, moto {doc['motoQueriesPerSecond']:.2f} q/s, "
          f"x{doc['speedup']:.1f}; agree {agree}, documented {documented}, differ {len(differ)}", file=sys.stderr)


if __name__ == "__main__":
    main()
