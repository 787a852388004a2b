-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Cost per call by model, average and p95 (seed guide, 4A). Unpriced calls are left out of both.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT model,
       AVG(cost_usd) AS avg_cost,
       quantileExactInclusive(0.95)(toFloat64(cost_usd)) AS p95_cost,
       COUNT(*) AS calls,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
GROUP BY model
ORDER BY model
