-- Retention: the next calls to delete (older than delete_before and not kept longer), oldest first.
SELECT c.id
FROM llm_calls c
WHERE c.ts < :delete_before AND NOT {{retention_kept}}
ORDER BY c.ts, c.id
LIMIT :limit
