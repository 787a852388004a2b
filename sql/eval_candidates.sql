-- Sample-to-eval candidates (seed guide, 4D): thumbs-down, slow, expensive or refused calls, in random order.
SELECT c.id,
       c.ts,
       c.feature,
       c.model,
       c.user_feedback,
       c.latency_ms,
       c.cost_usd,
       c.is_refusal,
       x.messages AS prompt,
       x.response
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
WHERE c.ts >= :start AND c.ts < :end
  AND (c.user_feedback = 'thumbs_down'
       OR c.latency_ms > :slow_ms
       OR c.cost_usd > :expensive_usd
       OR c.is_refusal
       OR LOWER(x.output_text) LIKE '%i don''t know%')
ORDER BY {{random}}
LIMIT :limit
