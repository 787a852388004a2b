-- Calls with content to preview redaction on, newest first.
SELECT c.id, c.ts, c.feature, c.model, c.user_id, c.content_state
FROM llm_calls c
WHERE {{filters}} AND c.content_state IN ('full', 'redacted')
ORDER BY c.ts DESC, c.id
LIMIT :limit
