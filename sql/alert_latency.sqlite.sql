-- Alert rules: p95 latency and calls per feature (and model, when by_model is 1) in a window, replays left out.
-- PERCENTILE_CONT's linear interpolation, as in latency_percentiles.sqlite.sql.
WITH w AS (
    SELECT feature, CASE WHEN CAST(:by_model AS INTEGER) = 1 THEN model END AS model, latency_ms AS v
    FROM llm_calls
    WHERE ts >= :start AND ts < :end AND source <> 'replay' AND latency_ms IS NOT NULL
),
ranked AS (
    SELECT feature, model, v,
           ROW_NUMBER() OVER (PARTITION BY feature, model ORDER BY v) - 1 AS i,
           0.95 * (COUNT(*) OVER (PARTITION BY feature, model) - 1) AS p
    FROM w
)
SELECT feature,
       model,
       SUM(CASE i WHEN CAST(p AS INTEGER) THEN v * (1 - (p - CAST(p AS INTEGER)))
                  WHEN CAST(p AS INTEGER) + 1 THEN v * (p - CAST(p AS INTEGER)) END) AS p95,
       COUNT(*) AS calls
FROM ranked
GROUP BY feature, model
ORDER BY feature, model
