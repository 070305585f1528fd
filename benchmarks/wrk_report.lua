-- wrk script: send the headers given in WRK_HEADERS (one "Name: value" per line), and print
-- one JSON line with requests/s, latency percentiles (ms) and errors at the end of the run.

local extra = os.getenv("WRK_HEADERS") or ""
for line in extra:gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, _requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local non_2xx = errors.status
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.connect + errors.read + errors.write + errors.timeout, non_2xx))
end
