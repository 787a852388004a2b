-- What `obs stats` reports. A call is unpriced when it succeeded but no price is known for it.
SELECT COUNT(*) AS calls,
       (SELECT COUNT(*) FROM (SELECT trace_id FROM llm_calls UNION SELECT trace_id FROM spans) AS t) AS traces,
       SUM(CASE WHEN cost_usd IS NULL AND status = 'ok' THEN 1 ELSE 0 END) AS unpriced_calls,
       SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
       SUM(cost_usd) AS total_cost_usd,
       MIN(ts) AS first_ts,
       MAX(ts) AS last_ts
FROM llm_calls
