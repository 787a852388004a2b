-- p95 latency of each feature in the window (the eval sampler's "slower than its feature's p95" rule).
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT feature,
       quantileExactInclusive(0.95)(latency_ms) AS p95,
       COUNT(latency_ms) AS calls
FROM llm_calls
WHERE ts >= :start AND ts < :end AND latency_ms IS NOT NULL
GROUP BY feature
ORDER BY feature
