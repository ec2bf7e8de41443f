-- wrk: POST /api/v1/auth/login as fast as the connections allow; counts answers by status.
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"bench horse 1"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, busy, other = 0, 0, 0
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, b, x = 0, 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok")
    b = b + thread:get("busy")
    x = x + thread:get("other")
  end
  io.write(string.format("ok=%d busy=%d other=%d secs=%.2f p50_ms=%.0f p99_ms=%.0f max_ms=%.0f\n",
    o, b, x, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
