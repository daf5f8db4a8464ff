-- wrk done() hook for perf/servers: prints latency percentiles in microseconds, one per line,
-- as "percentile_us P VALUE" (wrk's --latency table stops at p99).
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9, 99.99}) do
    io.write(string.format("percentile_us %s %d\n", tostring(p), latency:percentile(p)))
  end
end
