-- Retention dry run: how many calls would be deleted, how many would lose their content, how many are kept longer.
SELECT
  (SELECT COUNT(*) FROM llm_calls c WHERE c.ts < :delete_before AND NOT {{retention_kept}}) AS delete_calls,
  (SELECT COUNT(*) FROM llm_calls c
    WHERE c.ts < :content_before AND c.ts >= :delete_before AND c.content_state IN ('full', 'redacted')
      AND NOT {{retention_kept}}) AS expire_content,
  (SELECT COUNT(*) FROM spans s WHERE s.start_ts < :delete_before
      AND NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.trace_id = s.trace_id AND {{retention_kept}})) AS delete_spans,
  (SELECT COUNT(*) FROM llm_calls c WHERE c.ts < :content_before AND {{retention_kept}}) AS kept_calls
