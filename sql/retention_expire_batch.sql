-- Retention: the next calls whose content expires (older than content_before but not old enough to be
-- deleted, content still there, not kept longer), oldest first.
SELECT c.id
FROM llm_calls c
WHERE c.ts < :content_before AND c.ts >= :delete_before
  AND c.content_state IN ('full', 'redacted')
  AND NOT {{retention_kept}}
ORDER BY c.ts, c.id
LIMIT :limit
