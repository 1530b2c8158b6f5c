-- wrk script that only defines done(): no per-request Lua work, so it does not slow wrk down.
-- It prints one machine-readable line that run.sh reads instead of parsing wrk's human units.
-- Latencies are in microseconds; req/s is computed exactly as wrk's own "Requests/sec".
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d socket_errors=%d status_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
