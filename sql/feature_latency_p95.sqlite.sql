-- p95 latency of each feature in the window (the eval sampler's "slower than its feature's p95" rule).
-- SQLite has no PERCENTILE_CONT: interpolate between the two neighbours of position 0.95 * (n - 1), as it does.
WITH ranked AS (
    SELECT feature,
           latency_ms AS v,
           ROW_NUMBER() OVER (PARTITION BY feature ORDER BY latency_ms) - 1 AS i,
           0.95 * (COUNT(*) OVER (PARTITION BY feature) - 1) AS p
    FROM llm_calls
    WHERE ts >= :start AND ts < :end AND latency_ms IS NOT NULL
)
SELECT feature,
       SUM(CASE i WHEN CAST(p AS INTEGER) THEN v * (1 - (p - CAST(p AS INTEGER)))
                  WHEN CAST(p AS INTEGER) + 1 THEN v * (p - CAST(p AS INTEGER)) END) AS p95,
       COUNT(*) AS calls
FROM ranked
GROUP BY feature
ORDER BY feature
