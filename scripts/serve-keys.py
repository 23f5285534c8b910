#!/usr/bin/env python3
# 4 threads each call create_keys_and_certificate K times while the main thread times
# create_thing one after another; prints the keys' throughput and create_thing's latencies.
# usage: scripts/serve-keys.py PORT K  (a fleetdex-server on 127.0.0.1:PORT with --access-key-id AKIDLOCAL --secret-access-key s3cret)
import sys, time, threading, statistics, boto3
from botocore.config import Config
port, K = int(sys.argv[1]), int(sys.argv[2])
def client():
    return boto3.client("iot", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s3cret", config=Config(retries={"max_attempts": 1}))
done = threading.Event()
def keys():
    c = client()
    for _ in range(K): c.create_keys_and_certificate(setAsActive=True)
c0 = client(); c0.create_thing(thingName="warm"); c0.create_keys_and_certificate(setAsActive=False)
ts = [threading.Thread(target=keys) for _ in range(4)]
t0 = time.time()
for t in ts: t.start()
lat = []; n = 0
c = client()
while any(t.is_alive() for t in ts):
    s = time.time(); c.create_thing(thingName=f"t-{n}"); lat.append((time.time() - s) * 1000); n += 1
for t in ts: t.join()
el = time.time() - t0
lat.sort()
print(f"keys: {4*K} in {el:.2f} s = {4*K/el:.1f}/s; create_thing meanwhile: {len(lat)} calls, median {statistics.median(lat):.1f} ms, p90 {lat[int(len(lat)*0.9)]:.1f} ms, max {lat[-1]:.1f} ms")
