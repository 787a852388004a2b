-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Cost per call by model, average and p95 (seed guide, 4A). Unpriced calls are left out of both.
SELECT model,
       AVG(cost_usd) AS avg_cost,
       PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY cost_usd) AS p95_cost,
       COUNT(*) AS calls,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
GROUP BY model
ORDER BY model
