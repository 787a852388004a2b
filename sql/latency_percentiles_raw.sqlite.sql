-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Latency percentiles by feature and model (seed guide, 4B), slowest p95 first.
-- SQLite has no PERCENTILE_CONT: rank each group's latencies and interpolate between the two neighbours
-- of position p * (n - 1), exactly as PostgreSQL does.
WITH ranked AS (
    SELECT feature,
           model,
           latency_ms AS v,
           ROW_NUMBER() OVER (PARTITION BY feature, model ORDER BY latency_ms IS NULL, latency_ms) - 1 AS i,
           COUNT(latency_ms) OVER (PARTITION BY feature, model) - 1 AS last
    FROM llm_calls
    WHERE {{filters}}
),
positions AS (
    SELECT feature, model, v, i, 0.5 * last AS p50, 0.95 * last AS p95, 0.99 * last AS p99
    FROM ranked
)
SELECT feature,
       model,
       SUM(CASE i WHEN CAST(p50 AS INTEGER) THEN v * (1 - (p50 - CAST(p50 AS INTEGER)))
                  WHEN CAST(p50 AS INTEGER) + 1 THEN v * (p50 - CAST(p50 AS INTEGER)) END) AS p50,
       SUM(CASE i WHEN CAST(p95 AS INTEGER) THEN v * (1 - (p95 - CAST(p95 AS INTEGER)))
                  WHEN CAST(p95 AS INTEGER) + 1 THEN v * (p95 - CAST(p95 AS INTEGER)) END) AS p95,
       SUM(CASE i WHEN CAST(p99 AS INTEGER) THEN v * (1 - (p99 - CAST(p99 AS INTEGER)))
                  WHEN CAST(p99 AS INTEGER) + 1 THEN v * (p99 - CAST(p99 AS INTEGER)) END) AS p99,
       COUNT(*) AS calls
FROM positions
GROUP BY feature, model
ORDER BY p95 DESC NULLS LAST, feature, model
