-- Every replay of one call, newest first, with what the comparison needs at a glance.
SELECT c.id, c.ts, c.model, c.temperature, c.status, c.finish_reason, c.is_refusal, c.prompt_tokens,
       c.completion_tokens, c.cost_usd, c.latency_ms, c.error,
       SUBSTR(x.output_text, 1, 160) AS output_preview
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
WHERE c.replay_of = :call_id
ORDER BY c.ts DESC, c.id
