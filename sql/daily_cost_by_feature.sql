-- Daily cost by feature (seed guide, 4A). Unpriced calls are counted apart, never priced at $0.
-- From the rollups plus the raw calls at the window's edges (obs.rollup); daily_cost_by_feature_raw asks the raw table.
SELECT {{day}} AS day,
       NULLIF(feature, '') AS feature,
       CASE WHEN SUM(priced_calls) > 0 THEN SUM(cost_usd) END AS cost,
       SUM(calls) AS calls,
       SUM(unpriced) AS unpriced_calls
FROM (SELECT ts, feature, calls, priced_calls, unpriced, cost_usd FROM {{rollup_calls}} AS r WHERE {{rollup_dims}}
      UNION ALL
      SELECT ts, COALESCE(feature, ''), 1, CASE WHEN cost_usd IS NULL THEN 0 ELSE 1 END,
             CASE WHEN {{unpriced}} THEN 1 ELSE 0 END, cost_usd
      FROM llm_calls WHERE {{edge_filters}}) AS parts
GROUP BY 1, 2
HAVING SUM(calls) > 0
ORDER BY 1 DESC, 2
