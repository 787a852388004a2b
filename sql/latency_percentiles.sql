-- Latency percentiles by feature and model (seed guide, 4B), slowest p95 first.
-- From the latency histograms plus the raw calls at the window's edges (obs.rollup), within 4.8% of
-- PERCENTILE_CONT; latency_percentiles_raw asks the raw table.
WITH counts AS (
    SELECT feature, model, SUM(calls) AS calls
    FROM (SELECT feature, model, calls FROM {{rollup_calls}} AS r WHERE {{rollup_dims}}
          UNION ALL
          SELECT COALESCE(feature, ''), model, 1 FROM llm_calls WHERE {{edge_filters}}) AS parts
    GROUP BY feature, model
    HAVING SUM(calls) > 0
),
hist AS (
    SELECT feature, model, bucket, SUM(n) AS n
    FROM (SELECT feature, model, bucket, calls AS n FROM {{rollup_histograms}} AS r WHERE metric = 'latency' AND {{rollup_dims}}
          UNION ALL
          SELECT feature, model, {{histogram_bucket}}, 1
          FROM (SELECT COALESCE(feature, '') AS feature, model, latency_ms AS v FROM llm_calls
                WHERE {{edge_filters}}) AS e
          WHERE v IS NOT NULL) AS h
    GROUP BY feature, model, bucket
    HAVING SUM(n) > 0
),
ranked AS (
    SELECT feature, model, bucket, n, q,
           SUM(n) OVER (PARTITION BY feature, model, q ORDER BY bucket) AS upto,
           SUM(n) OVER (PARTITION BY feature, model, q) - 1 AS last
    FROM hist
    CROSS JOIN (SELECT 0.5 AS q UNION ALL SELECT 0.95 UNION ALL SELECT 0.99) AS qs
),
percentiles AS (
    SELECT feature, model, q, {{percentile}} AS value FROM ranked GROUP BY feature, model, q
)
SELECT NULLIF(c.feature, '') AS feature,
       c.model,
       MAX(CASE WHEN p.q = 0.5 THEN p.value END) AS p50,
       MAX(CASE WHEN p.q = 0.95 THEN p.value END) AS p95,
       MAX(CASE WHEN p.q = 0.99 THEN p.value END) AS p99,
       c.calls
FROM counts c
LEFT JOIN percentiles p ON p.feature = c.feature AND p.model = c.model
GROUP BY c.feature, c.model, c.calls
ORDER BY 4 DESC NULLS LAST, 1, 2
