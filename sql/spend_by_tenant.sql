-- Spend per tenant; unpriced calls are counted apart, never as $0.
SELECT tenant_id,
       SUM(cost_usd) AS spend,
       COUNT(*) AS calls,
       COUNT(DISTINCT user_id) AS users,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
GROUP BY tenant_id
ORDER BY spend DESC NULLS LAST, tenant_id
