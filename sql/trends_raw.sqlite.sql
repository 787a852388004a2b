-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Per time bucket ('day' or 'hour'): volume, spend, error and refusal rates, latency percentiles.
-- Percentiles interpolate between the two neighbours of position p * (n - 1), as PERCENTILE_CONT does.
WITH bucketed AS (
    SELECT {{bucket}} AS bucket,
           latency_ms, cost_usd, status, is_refusal
    FROM llm_calls
    WHERE {{filters}}
),
ranked AS (
    SELECT bucket, latency_ms AS v, cost_usd, status, is_refusal,
           ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY latency_ms IS NULL, latency_ms) - 1 AS i,
           COUNT(latency_ms) OVER (PARTITION BY bucket) - 1 AS last
    FROM bucketed
),
positions AS (
    SELECT *, 0.5 * last AS p50, 0.95 * last AS p95, 0.99 * last AS p99 FROM ranked
)
SELECT bucket,
       COUNT(*) AS calls,
       SUM(cost_usd) AS cost,
       AVG(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       AVG(CASE WHEN is_refusal THEN 1.0 ELSE 0.0 END) AS refusal_rate,
       SUM(CASE i WHEN CAST(p50 AS INTEGER) THEN v * (1 - (p50 - CAST(p50 AS INTEGER)))
                  WHEN CAST(p50 AS INTEGER) + 1 THEN v * (p50 - CAST(p50 AS INTEGER)) END) AS p50,
       SUM(CASE i WHEN CAST(p95 AS INTEGER) THEN v * (1 - (p95 - CAST(p95 AS INTEGER)))
                  WHEN CAST(p95 AS INTEGER) + 1 THEN v * (p95 - CAST(p95 AS INTEGER)) END) AS p95,
       SUM(CASE i WHEN CAST(p99 AS INTEGER) THEN v * (1 - (p99 - CAST(p99 AS INTEGER)))
                  WHEN CAST(p99 AS INTEGER) + 1 THEN v * (p99 - CAST(p99 AS INTEGER)) END) AS p99
FROM positions
GROUP BY bucket
ORDER BY bucket
