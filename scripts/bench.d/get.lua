-- wrk: GET the given URL as fast as the connections allow, with the bearer token in
-- PETORY_BENCH_TOKEN if set; counts answers by status.
local token = os.getenv("PETORY_BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, other = 0, 0
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, x = 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok")
    x = x + thread:get("other")
  end
  io.write(string.format("ok=%d other=%d secs=%.2f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    o, x, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
