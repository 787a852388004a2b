-- What `obs stats` reports. Unpriced: used the model, no known price (sql/_unpriced.sql; a call that failed
-- before any usage is not).
SELECT COUNT(*) AS calls,
       (SELECT COUNT(*) FROM (SELECT trace_id FROM llm_calls UNION SELECT trace_id FROM spans) AS t) AS traces,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls,
       SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
       SUM(cost_usd) AS total_cost_usd,
       MIN(ts) AS first_ts,
       MAX(ts) AS last_ts
FROM llm_calls
