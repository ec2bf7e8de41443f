-- wrk: one request as fast as the connections allow, counting answers by status. A GET, or a
-- POST of PETORY_BENCH_BODY (JSON) when set; the bearer token in PETORY_BENCH_TOKEN if set, or
-- one token after another from the file PETORY_BENCH_TOKENS (one per line), as many users; and
-- one path after another from the file PETORY_BENCH_PATHS (one per line) when set.
local body = os.getenv("PETORY_BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local token = os.getenv("PETORY_BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local tokens = {}
local next_token = 1
local paths = {}
local next_path = 1

function init(args)
  ok, busy, other = 0, 0, 0
  local file = os.getenv("PETORY_BENCH_TOKENS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then table.insert(tokens, line) end
    end
  end
  file = os.getenv("PETORY_BENCH_PATHS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then table.insert(paths, line) end
    end
  end
end

function request()
  if #tokens > 0 then
    wrk.headers["Authorization"] = "Bearer " .. tokens[next_token]
    next_token = next_token % #tokens + 1
  end
  if #paths > 0 then
    local path = paths[next_path]
    next_path = next_path % #paths + 1
    return wrk.format(nil, path)
  end
  return wrk.format()
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
  -- Connections refused or dropped and requests timed out are errors too.
  local e = summary.errors
  x = x + e.connect + e.read + e.write + e.timeout
  io.write(string.format("ok=%d busy=%d other=%d secs=%.2f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    o, b, x, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
