-- Alert rules: p95 latency and calls per feature (and model, when by_model is 1) in a window, replays left out.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT feature, model, quantileExactInclusive(0.95)(latency_ms) AS p95, COUNT(*) AS calls
FROM (
    SELECT feature, CASE WHEN CAST(:by_model AS INTEGER) = 1 THEN model END AS model, latency_ms
    FROM llm_calls
    WHERE ts >= :start AND ts < :end AND source <> 'replay' AND latency_ms IS NOT NULL
) AS w
GROUP BY feature, model
ORDER BY feature, model
