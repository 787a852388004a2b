-- Time to first token of streamed calls, by model.
-- From the rollups and TTFT histograms plus the raw calls at the window's edges (obs.rollup), percentiles within
-- 4.8% of PERCENTILE_CONT; ttft_by_model_raw asks the raw table.
WITH counts AS (
    SELECT model, SUM(ttft_calls) AS streamed_calls,
           SUM(ttft_latency_ms) * 1.0 / NULLIF(SUM(ttft_latency_calls), 0) AS avg_total_ms
    FROM (SELECT model, ttft_calls, ttft_latency_calls, ttft_latency_ms FROM {{rollup_calls}} AS r WHERE {{rollup_dims}}
          UNION ALL
          SELECT model, 1, CASE WHEN latency_ms IS NULL THEN 0 ELSE 1 END, COALESCE(latency_ms, 0)
          FROM llm_calls WHERE {{edge_filters}} AND stream AND latency_ms_first_token IS NOT NULL) AS parts
    GROUP BY model
    HAVING SUM(ttft_calls) > 0
),
hist AS (
    SELECT model, bucket, SUM(n) AS n
    FROM (SELECT model, bucket, calls AS n FROM {{rollup_histograms}} AS r WHERE metric = 'ttft' AND {{rollup_dims}}
          UNION ALL
          SELECT model, {{histogram_bucket}}, 1
          FROM (SELECT model, latency_ms_first_token AS v FROM llm_calls
                WHERE {{edge_filters}} AND stream AND latency_ms_first_token IS NOT NULL) AS e) AS h
    GROUP BY model, bucket
    HAVING SUM(n) > 0
),
ranked AS (
    SELECT model, bucket, n, q,
           SUM(n) OVER (PARTITION BY model, q ORDER BY bucket) AS upto,
           SUM(n) OVER (PARTITION BY model, q) - 1 AS last
    FROM hist
    CROSS JOIN (SELECT 0.5 AS q UNION ALL SELECT 0.95) AS qs
),
percentiles AS (
    SELECT model, q, {{percentile}} AS value FROM ranked GROUP BY model, q
)
SELECT c.model,
       c.streamed_calls,
       MAX(CASE WHEN p.q = 0.5 THEN p.value END) AS ttft_p50,
       MAX(CASE WHEN p.q = 0.95 THEN p.value END) AS ttft_p95,
       c.avg_total_ms
FROM counts c
LEFT JOIN percentiles p ON p.model = c.model
GROUP BY c.model, c.streamed_calls, c.avg_total_ms
ORDER BY c.model
