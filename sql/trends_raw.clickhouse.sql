-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Per time bucket ('day' or 'hour'): volume, spend, error and refusal rates, latency percentiles.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT {{bucket}} AS bucket,
       COUNT(*) AS calls,
       SUM(cost_usd) AS cost,
       AVG(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       AVG(CASE WHEN is_refusal THEN 1.0 ELSE 0.0 END) AS refusal_rate,
       quantileExactInclusive(0.5)(latency_ms) AS p50,
       quantileExactInclusive(0.95)(latency_ms) AS p95,
       quantileExactInclusive(0.99)(latency_ms) AS p99
FROM llm_calls
WHERE {{filters}}
GROUP BY 1
ORDER BY 1
