-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Time to first token of streamed calls, by model.
-- ClickHouse: quantileExactInclusive interpolates linearly, as PERCENTILE_CONT does.
SELECT model,
       COUNT(*) AS streamed_calls,
       quantileExactInclusive(0.5)(latency_ms_first_token) AS ttft_p50,
       quantileExactInclusive(0.95)(latency_ms_first_token) AS ttft_p95,
       AVG(latency_ms) AS avg_total_ms
FROM llm_calls
WHERE {{filters}} AND stream AND latency_ms_first_token IS NOT NULL
GROUP BY model
ORDER BY model
