-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Cost per call by model, average and p95 (seed guide, 4A). Unpriced calls are left out of both.
-- SQLite has no PERCENTILE_CONT: rank the priced calls of each model and interpolate between the two
-- neighbours of position 0.95 * (n - 1), exactly as PostgreSQL does.
WITH ranked AS (
    SELECT model,
           cost_usd AS v,
           CASE WHEN {{unpriced}} THEN 1 ELSE 0 END AS unpriced,
           ROW_NUMBER() OVER (PARTITION BY model ORDER BY cost_usd IS NULL, cost_usd) - 1 AS i,
           0.95 * (COUNT(cost_usd) OVER (PARTITION BY model) - 1) AS p95
    FROM llm_calls
    WHERE {{filters}}
)
SELECT model,
       AVG(v) AS avg_cost,
       SUM(CASE i WHEN CAST(p95 AS INTEGER) THEN v * (1 - (p95 - CAST(p95 AS INTEGER)))
                  WHEN CAST(p95 AS INTEGER) + 1 THEN v * (p95 - CAST(p95 AS INTEGER)) END) AS p95_cost,
       COUNT(*) AS calls,
       SUM(unpriced) AS unpriced_calls
FROM ranked
GROUP BY model
ORDER BY model
