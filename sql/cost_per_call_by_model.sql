-- Cost per call by model, average and p95 (seed guide, 4A). Unpriced calls are left out of both.
-- From the rollups and cost histograms plus the raw calls at the window's edges (obs.rollup): the average exact,
-- p95 within 4.8% of PERCENTILE_CONT; cost_per_call_by_model_raw asks the raw table.
WITH counts AS (
    SELECT model, SUM(calls) AS calls, SUM(priced_calls) AS priced_calls, SUM(unpriced) AS unpriced,
           SUM(cost_usd) AS cost
    FROM (SELECT model, calls, priced_calls, unpriced, cost_usd FROM {{rollup_calls}} AS r WHERE {{rollup_dims}}
          UNION ALL
          SELECT model, 1, CASE WHEN cost_usd IS NULL THEN 0 ELSE 1 END, CASE WHEN {{unpriced}} THEN 1 ELSE 0 END,
                 cost_usd
          FROM llm_calls WHERE {{edge_filters}}) AS parts
    GROUP BY model
    HAVING SUM(calls) > 0
),
hist AS (
    SELECT model, bucket, SUM(n) AS n
    FROM (SELECT model, bucket, calls AS n FROM {{rollup_histograms}} AS r WHERE metric = 'cost' AND {{rollup_dims}}
          UNION ALL
          SELECT model, {{histogram_bucket}}, 1
          FROM (SELECT model, CAST(cost_usd AS DOUBLE PRECISION) * 1000000000 AS v FROM llm_calls
                WHERE {{edge_filters}} AND cost_usd IS NOT NULL) AS e) AS h
    GROUP BY model, bucket
    HAVING SUM(n) > 0
),
ranked AS (
    SELECT model, bucket, n, 0.95 AS q,
           SUM(n) OVER (PARTITION BY model ORDER BY bucket) AS upto,
           SUM(n) OVER (PARTITION BY model) - 1 AS last
    FROM hist
),
percentiles AS (
    SELECT model, ({{percentile}}) / 1000000000 AS p95_cost FROM ranked GROUP BY model
)
SELECT c.model,
       CASE WHEN c.priced_calls > 0 THEN c.cost / c.priced_calls END AS avg_cost,
       p.p95_cost,
       c.calls,
       c.unpriced AS unpriced_calls
FROM counts c
LEFT JOIN percentiles p ON p.model = c.model
ORDER BY c.model
