-- The overview's tiles for one window: volume, spend, p95 latency and the rates reviewers watch.
-- From the rollups plus the raw calls at the window's edges (obs.rollup): counts and sums exact, p95 from the
-- latency histograms (within 4.8% of PERCENTILE_CONT); overview_kpis_raw asks the raw table.
WITH parts AS (
    SELECT calls, errors, refusals, thumbs_down, unpriced, priced_calls, cost_usd
    FROM {{rollup_calls}} AS r
    WHERE {{rollup_dims}}
    UNION ALL
    SELECT 1, CASE WHEN status = 'error' THEN 1 ELSE 0 END, CASE WHEN is_refusal THEN 1 ELSE 0 END,
           CASE WHEN user_feedback = 'thumbs_down' THEN 1 ELSE 0 END,
           CASE WHEN {{unpriced}} THEN 1 ELSE 0 END,
           CASE WHEN cost_usd IS NULL THEN 0 ELSE 1 END, cost_usd
    FROM llm_calls
    WHERE {{edge_filters}}
),
hist AS (
    SELECT bucket, SUM(n) AS n
    FROM (SELECT bucket, calls AS n FROM {{rollup_histograms}} AS r WHERE metric = 'latency' AND {{rollup_dims}}
          UNION ALL
          SELECT {{histogram_bucket}}, 1 FROM (SELECT latency_ms AS v FROM llm_calls WHERE {{edge_filters}}) AS e
          WHERE v IS NOT NULL) AS h
    GROUP BY bucket
    HAVING SUM(n) > 0
),
ranked AS (
    SELECT bucket, n, SUM(n) OVER (ORDER BY bucket) AS upto, SUM(n) OVER () - 1 AS last, 0.95 AS q FROM hist
)
SELECT COALESCE(SUM(calls), 0) AS calls,
       CASE WHEN SUM(priced_calls) > 0 THEN SUM(cost_usd) END AS spend,
       (SELECT {{percentile}} FROM ranked) AS p95_latency_ms,
       SUM(errors) * 1.0 / NULLIF(SUM(calls), 0) AS error_rate,
       SUM(refusals) * 1.0 / NULLIF(SUM(calls), 0) AS refusal_rate,
       SUM(thumbs_down) * 1.0 / NULLIF(SUM(calls), 0) AS thumbs_down_rate,
       SUM(unpriced) AS unpriced_calls
FROM parts
