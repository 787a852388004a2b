-- Per time bucket ('day' or 'hour'): volume, spend, error and refusal rates, latency percentiles.
-- From the rollups plus the raw calls at the window's edges (obs.rollup); percentiles from the latency
-- histograms (within 4.8% of PERCENTILE_CONT); trends_raw asks the raw table.
WITH parts AS (
    SELECT {{bucket}} AS period, calls, priced_calls, cost_usd, errors, refusals
    FROM {{rollup_calls}} AS r
    WHERE {{rollup_dims}}
    UNION ALL
    SELECT {{bucket}}, 1, CASE WHEN cost_usd IS NULL THEN 0 ELSE 1 END, cost_usd,
           CASE WHEN status = 'error' THEN 1 ELSE 0 END, CASE WHEN is_refusal THEN 1 ELSE 0 END
    FROM llm_calls
    WHERE {{edge_filters}}
),
totals AS (
    SELECT period, SUM(calls) AS calls, CASE WHEN SUM(priced_calls) > 0 THEN SUM(cost_usd) END AS cost,
           SUM(errors) * 1.0 / SUM(calls) AS error_rate, SUM(refusals) * 1.0 / SUM(calls) AS refusal_rate
    FROM parts
    GROUP BY period
    HAVING SUM(calls) > 0
),
hist AS (
    SELECT period, bucket, SUM(n) AS n
    FROM (SELECT {{bucket}} AS period, bucket, calls AS n FROM {{rollup_histograms}} AS r
          WHERE metric = 'latency' AND {{rollup_dims}}
          UNION ALL
          SELECT {{bucket}}, {{histogram_bucket}}, 1
          FROM (SELECT ts, latency_ms AS v FROM llm_calls WHERE {{edge_filters}}) AS e
          WHERE v IS NOT NULL) AS h
    GROUP BY period, bucket
    HAVING SUM(n) > 0
),
ranked AS (
    SELECT period, bucket, n, q,
           SUM(n) OVER (PARTITION BY period, q ORDER BY bucket) AS upto,
           SUM(n) OVER (PARTITION BY period, q) - 1 AS last
    FROM hist
    CROSS JOIN (SELECT 0.5 AS q UNION ALL SELECT 0.95 UNION ALL SELECT 0.99) AS qs
),
percentiles AS (
    SELECT period, q, {{percentile}} AS value FROM ranked GROUP BY period, q
)
SELECT t.period AS bucket, t.calls, t.cost, t.error_rate, t.refusal_rate,
       MAX(CASE WHEN p.q = 0.5 THEN p.value END) AS p50,
       MAX(CASE WHEN p.q = 0.95 THEN p.value END) AS p95,
       MAX(CASE WHEN p.q = 0.99 THEN p.value END) AS p99
FROM totals t
LEFT JOIN percentiles p ON p.period = t.period
GROUP BY t.period, t.calls, t.cost, t.error_rate, t.refusal_rate
ORDER BY 1
