-- One page of the call explorer, newest first. Optional: status, refusals only, a feedback value, and text
-- searched in the answer (a LIKE pattern). Never the whole table: LIMIT and OFFSET come from the page.
SELECT c.id, c.ts, c.feature, c.model, c.user_id, c.tenant_id, c.status, c.is_refusal, c.user_feedback,
       c.prompt_tokens, c.completion_tokens, c.cost_usd, c.latency_ms, c.prompt_version, c.trace_id,
       SUBSTR(x.output_text, 1, 160) AS output_preview,
       CAST(x.messages AS TEXT) AS messages
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
WHERE {{filters}}
  AND {{call_conditions}}
ORDER BY c.ts DESC, c.id
LIMIT :limit OFFSET :offset
