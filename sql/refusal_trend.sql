-- Refusal rate per time bucket, model and prompt version (a prompt change that makes one model refuse shows).
-- From the rollups plus the raw calls at the window's edges (obs.rollup); refusal_trend_raw asks the raw table.
SELECT {{bucket}} AS bucket,
       model,
       NULLIF(prompt_version, '') AS prompt_version,
       SUM(calls) AS calls,
       SUM(refusals) AS refusals,
       SUM(refusals) * 1.0 / SUM(calls) AS refusal_rate
FROM (SELECT ts, model, prompt_version, calls, refusals FROM {{rollup_calls}} AS r WHERE {{rollup_dims}}
      UNION ALL
      SELECT ts, model, COALESCE(prompt_version, ''), 1, CASE WHEN is_refusal THEN 1 ELSE 0 END
      FROM llm_calls WHERE {{edge_filters}}) AS parts
GROUP BY 1, 2, 3
HAVING SUM(calls) > 0
ORDER BY 1, 2, 3
