-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Latency percentiles by feature and model (seed guide, 4B), slowest p95 first.
SELECT feature,
       model,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
       PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
       COUNT(*) AS calls
FROM llm_calls
WHERE {{filters}}
GROUP BY feature, model
ORDER BY p95 DESC NULLS LAST, feature, model
