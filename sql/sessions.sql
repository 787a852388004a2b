-- Conversations (calls that share a session_id) active in the window, the most recent first: when they ran
-- (within the window), turns (traces), calls, users, spend, tokens, errors, refusals, thumbs-down, and the id of
-- the first call (its question is read from its content); at most "limit" sessions.
WITH s AS (
    SELECT c.id, c.session_id, c.trace_id, c.ts, c.user_id, c.cost_usd, c.prompt_tokens, c.completion_tokens,
           c.status, c.is_refusal, c.user_feedback, c.feature,
           ROW_NUMBER() OVER (PARTITION BY c.session_id ORDER BY c.ts, c.id) AS n
    FROM llm_calls c
    WHERE {{filters}}
      AND c.session_id IS NOT NULL
)
SELECT session_id,
       MIN(ts) AS first_ts,
       MAX(ts) AS last_ts,
       COUNT(DISTINCT trace_id) AS turns,
       COUNT(*) AS calls,
       COUNT(DISTINCT user_id) AS users,
       MIN(user_id) AS user_id,
       MIN(feature) AS feature,
       SUM(cost_usd) AS cost_usd,
       SUM(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0)) AS tokens,
       SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
       SUM(CASE WHEN is_refusal THEN 1 ELSE 0 END) AS refusals,
       SUM(CASE WHEN user_feedback = 'thumbs_down' THEN 1 ELSE 0 END) AS thumbs_down,
       MAX(CASE WHEN n = 1 THEN id END) AS first_call_id
FROM s
GROUP BY session_id
ORDER BY MAX(ts) DESC, session_id
LIMIT :limit
