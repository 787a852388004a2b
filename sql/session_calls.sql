-- Every call of one conversation, in order (replays left out): what its chat view is built from.
SELECT c.id, c.trace_id, c.parent_id, c.ts, c.feature, c.model, c.user_id, c.cost_usd, c.latency_ms, c.status,
       c.error_type, c.is_refusal, c.user_feedback, c.prompt_tokens, c.completion_tokens
FROM llm_calls c
WHERE c.session_id = :session
  AND c.source <> 'replay'
ORDER BY c.ts, c.id
