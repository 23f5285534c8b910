-- wrk script for fleetdex-bench's serve stage: repeats pre-signed requests (scripts/serve-sign.py
-- writes them; the file is named by $FLEETDEX_WRK_REQUESTS), round-robin from a per-thread
-- offset, and prints one line "FLEETDEX_WRK {json}" with the counts and latency percentiles (us).
local list = {}
local i = 0

function init(args)
   local reqs = dofile(os.getenv("FLEETDEX_WRK_REQUESTS"))
   for _, r in ipairs(reqs) do
      list[#list + 1] = wrk.format(r.method, r.path, r.headers, r.body)
   end
   i = math.random(#list) - 1
end

function request()
   i = i % #list + 1
   return list[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format('FLEETDEX_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
