-- The triage queue: candidates waiting for a reviewer, in the order they were sampled.
SELECT e.id AS id, e.call_id AS call_id, c.ts, c.feature, c.model, c.latency_ms, c.cost_usd, c.status AS status,
       c.is_refusal, c.user_feedback
FROM eval_cases e
JOIN llm_calls c ON c.id = e.call_id
WHERE e.status = 'candidate'
ORDER BY e.id
LIMIT :limit
