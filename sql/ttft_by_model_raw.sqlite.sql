-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Time to first token of streamed calls, by model (percentiles as PERCENTILE_CONT computes them).
WITH ranked AS (
    SELECT model, latency_ms, latency_ms_first_token AS v,
           ROW_NUMBER() OVER (PARTITION BY model ORDER BY latency_ms_first_token) - 1 AS i,
           COUNT(*) OVER (PARTITION BY model) - 1 AS last
    FROM llm_calls
    WHERE {{filters}} AND stream AND latency_ms_first_token IS NOT NULL
),
positions AS (
    SELECT *, 0.5 * last AS p50, 0.95 * last AS p95 FROM ranked
)
SELECT model,
       COUNT(*) AS streamed_calls,
       SUM(CASE i WHEN CAST(p50 AS INTEGER) THEN v * (1 - (p50 - CAST(p50 AS INTEGER)))
                  WHEN CAST(p50 AS INTEGER) + 1 THEN v * (p50 - CAST(p50 AS INTEGER)) END) AS ttft_p50,
       SUM(CASE i WHEN CAST(p95 AS INTEGER) THEN v * (1 - (p95 - CAST(p95 AS INTEGER)))
                  WHEN CAST(p95 AS INTEGER) + 1 THEN v * (p95 - CAST(p95 AS INTEGER)) END) AS ttft_p95,
       AVG(latency_ms) AS avg_total_ms
FROM positions
GROUP BY model
ORDER BY model
