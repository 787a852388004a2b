-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Time to first token of streamed calls, by model.
SELECT model,
       COUNT(*) AS streamed_calls,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms_first_token) AS ttft_p50,
       PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms_first_token) AS ttft_p95,
       AVG(latency_ms) AS avg_total_ms
FROM llm_calls
WHERE {{filters}} AND stream AND latency_ms_first_token IS NOT NULL
GROUP BY model
ORDER BY model
