#!/usr/bin/env python3
"""While another process holds a fleetdex SQLite database's write lock, how long do serve's reads take?

    python3 scripts/serve-held-lock.py PORT DB HOLD_SECONDS WRITES

serve (`fleetdex serve --db DB --port PORT --access-key-id AK --secret-access-key SK`) must be
running on DB, which must hold thing-0000001 and thing-0000042 (fleetdex-bench's fleet). This
script takes DB's write lock (BEGIN IMMEDIATE, as the CLI's import does) for HOLD_SECONDS, sends
WRITES CreateThing calls from threads of their own (they wait for the lock), then times one
DescribeThing, one SearchIndex and GET /_fleetdex/health, and prints those times and each
write's outcome once the lock is gone.
"""


import sqlite3, sys, threading, time, urllib.request, boto3
from botocore.config import Config
port, db, hold, writes = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
ep = f"http://127.0.0.1:{port}"
def client():
    return boto3.client("iot", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="AK", aws_secret_access_key="SK",
                        config=Config(retries={"max_attempts": 1}, read_timeout=60))
c = client(); c.describe_thing(thingName="thing-0000001")
lock = sqlite3.connect(db, isolation_level=None, timeout=30)
lock.execute("BEGIN IMMEDIATE")
t0 = time.time()
res = []
def w(i):
    s = time.time()
    try:
        client().create_thing(thingName=f"held-{int(t0)}-{i}"); res.append(("ok", time.time() - s))
    except Exception as e:
        res.append((type(e).__name__ + ":" + str(e)[:60], time.time() - s))
ts = [threading.Thread(target=w, args=(i,)) for i in range(writes)]
for t in ts: t.start()
time.sleep(0.3)
reads = []
for op in ["describe", "search", "health"]:
    s = time.time()
    if op == "describe": c.describe_thing(thingName="thing-0000042")
    elif op == "search": c.search_index(queryString="attributes.serial:SN86301962")
    else: urllib.request.urlopen(ep + "/_fleetdex/health").read()
    reads.append((op, round((time.time() - s) * 1000, 1)))
remaining = hold - (time.time() - t0)
if remaining > 0: time.sleep(remaining)
lock.execute("COMMIT")
for t in ts: t.join()
print("reads while the lock was held (ms):", reads)
print("writes:", sorted((r[0], round(r[1], 2)) for r in res))
