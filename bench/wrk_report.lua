-- Shared wrk `done` hook for bench/http_bench.sh: prints one machine-readable line with the
-- totals (wrk's own human-readable summary is printed as well).
--   TPBENCH requests=N duration_us=N non2xx=N connect=N read=N write=N timeout=N p50_us=N ...
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "TPBENCH requests=%d duration_us=%d bytes=%d non2xx=%d connect=%d read=%d write=%d " ..
    "timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
