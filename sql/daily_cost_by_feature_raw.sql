-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Daily cost by feature (seed guide, 4A). Unpriced calls are counted apart, never priced at $0.
SELECT {{day}} AS day,
       feature,
       SUM(cost_usd) AS cost,
       COUNT(*) AS calls,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
GROUP BY 1, 2
ORDER BY 1 DESC, 2
