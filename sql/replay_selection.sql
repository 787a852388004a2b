-- The calls a batch replay sends, newest first: an eval dataset's cases (rejected ones left out), or the calls
-- of a feature and/or model in a time window. Replays themselves are never picked again.
SELECT c.id
FROM llm_calls c
WHERE c.source <> 'replay'
  AND c.ts >= :start AND c.ts < :end
  AND (CAST(:dataset AS TEXT) IS NULL OR c.id IN (
        SELECT e.call_id FROM eval_cases e
        WHERE e.dataset = CAST(:dataset AS TEXT) AND e.status <> 'rejected'))
  AND (CAST(:feature AS TEXT) IS NULL OR c.feature = CAST(:feature AS TEXT))
  AND (CAST(:model AS TEXT) IS NULL OR c.model = CAST(:model AS TEXT))
ORDER BY c.ts DESC, c.id
LIMIT :limit
