-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): The overview's tiles for one window: volume, spend, p95 latency and the rates reviewers watch.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT COUNT(*) AS calls,
       SUM(cost_usd) AS spend,
       quantileExactInclusive(0.95)(latency_ms) AS p95_latency_ms,
       AVG(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       AVG(CASE WHEN is_refusal THEN 1.0 ELSE 0.0 END) AS refusal_rate,
       AVG(CASE WHEN user_feedback = 'thumbs_down' THEN 1.0 ELSE 0.0 END) AS thumbs_down_rate,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
