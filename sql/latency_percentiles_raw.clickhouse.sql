-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Latency percentiles by feature and model (seed guide, 4B), slowest p95 first.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT feature,
       model,
       quantileExactInclusive(0.5)(latency_ms) AS p50,
       quantileExactInclusive(0.95)(latency_ms) AS p95,
       quantileExactInclusive(0.99)(latency_ms) AS p99,
       COUNT(*) AS calls
FROM llm_calls
WHERE {{filters}}
GROUP BY feature, model
ORDER BY p95 DESC NULLS LAST, feature, model
