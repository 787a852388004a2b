-- Alert rules: spend and calls per user, per tenant and per feature in a window (replays left out).
SELECT 'user' AS scope, user_id AS subject, SUM(cost_usd) AS spend, COUNT(*) AS calls
FROM llm_calls WHERE ts >= :start AND ts < :end AND source <> 'replay' AND user_id IS NOT NULL
GROUP BY user_id
UNION ALL
SELECT 'tenant', tenant_id, SUM(cost_usd), COUNT(*)
FROM llm_calls WHERE ts >= :start AND ts < :end AND source <> 'replay' AND tenant_id IS NOT NULL
GROUP BY tenant_id
UNION ALL
SELECT 'feature', feature, SUM(cost_usd), COUNT(*)
FROM llm_calls WHERE ts >= :start AND ts < :end AND source <> 'replay' AND feature IS NOT NULL
GROUP BY feature
ORDER BY 1, 3 DESC
