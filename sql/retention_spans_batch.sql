-- Retention: the next spans to delete (older than delete_before and not in a trace that has a kept call).
SELECT s.id
FROM spans s
WHERE s.start_ts < :delete_before
  AND NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.trace_id = s.trace_id AND {{retention_kept}})
ORDER BY s.start_ts, s.id
LIMIT :limit
