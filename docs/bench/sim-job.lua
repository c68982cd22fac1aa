-- wrk script: every request submits one `sim` generate job and waits for its result
-- (`Prefer: wait=5`), so one HTTP round trip = one whole job (API -> Redis -> worker -> API).
-- `cache: bypass` keeps the result cache out of the measurement.
-- Usage: wrk -t1 -c1 -d20s --latency -s docs/bench/sim-job.lua http://127.0.0.1:3100
wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["content-type"] = "application/json"
wrk.headers["prefer"] = "wait=5"
wrk.body = '{"model":"sim","task":"generate","input":{"prompt":"hi"},"params":{"max_tokens":8},"cache":"bypass"}'

done = function(summary, latency, requests)
  io.write(string.format("jobs: %d, errors: %d, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
