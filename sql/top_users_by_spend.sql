-- Top users by spend (seed guide, 4A).
SELECT user_id,
       SUM(cost_usd) AS spend,
       COUNT(*) AS calls,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced_calls
FROM llm_calls
WHERE {{filters}}
GROUP BY user_id
ORDER BY spend DESC NULLS LAST, user_id
LIMIT :limit
