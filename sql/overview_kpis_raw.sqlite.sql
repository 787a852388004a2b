-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): The overview's tiles for one window: volume, spend, p95 latency and the rates reviewers watch.
-- p95 interpolates between the two neighbours of position 0.95 * (n - 1), as PERCENTILE_CONT does.
WITH window_calls AS (
    SELECT * FROM llm_calls WHERE {{filters}}
),
ranked AS (
    SELECT latency_ms AS v,
           ROW_NUMBER() OVER (ORDER BY latency_ms IS NULL, latency_ms) - 1 AS i,
           0.95 * (COUNT(latency_ms) OVER () - 1) AS p
    FROM window_calls
)
SELECT COUNT(*) AS calls,
       SUM(cost_usd) AS spend,
       (SELECT SUM(CASE i WHEN CAST(p AS INTEGER) THEN v * (1 - (p - CAST(p AS INTEGER)))
                          WHEN CAST(p AS INTEGER) + 1 THEN v * (p - CAST(p AS INTEGER)) END)
        FROM ranked) AS p95_latency_ms,
       AVG(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       AVG(CASE WHEN is_refusal THEN 1.0 ELSE 0.0 END) AS refusal_rate,
       AVG(CASE WHEN user_feedback = 'thumbs_down' THEN 1.0 ELSE 0.0 END) AS thumbs_down_rate,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM window_calls
