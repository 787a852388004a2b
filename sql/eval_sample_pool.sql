-- Calls of the window that an eval rule may pick and that no eval case holds yet (waiting, reviewed or in a
-- dataset), oldest first. The rules themselves run in Python (obs.evals.rules); this only narrows the scan.
-- A NULL threshold or a 0 switch turns that rule off; the free filters are NULL for "all".
SELECT c.id, c.ts, c.feature, c.latency_ms, c.cost_usd, c.is_refusal, c.status, c.error_type, c.user_feedback
FROM llm_calls c
WHERE c.ts >= :start AND c.ts < :end
  AND (CAST(:feature AS TEXT) IS NULL OR c.feature = CAST(:feature AS TEXT))
  AND (CAST(:model AS TEXT) IS NULL OR c.model = CAST(:model AS TEXT))
  AND (CAST(:prompt_version AS TEXT) IS NULL OR c.prompt_version = CAST(:prompt_version AS TEXT))
  AND (CAST(:tenant_id AS TEXT) IS NULL OR c.tenant_id = CAST(:tenant_id AS TEXT))
  AND (CAST(:text AS TEXT) IS NULL OR EXISTS (
        SELECT 1 FROM llm_call_content x
        WHERE x.call_id = c.id
          AND (LOWER(x.output_text) LIKE CAST(:text AS TEXT)
               OR LOWER(CAST(x.messages AS TEXT)) LIKE CAST(:text AS TEXT)
               OR EXISTS (SELECT 1 FROM llm_texts t  -- a system prompt stored once
                          WHERE t.hash = x.system_prompt_hash AND LOWER(t.text) LIKE CAST(:text AS TEXT)))))
  AND ((CAST(:thumbs_down AS INTEGER) = 1 AND c.user_feedback = 'thumbs_down')
       OR (CAST(:errors AS INTEGER) = 1 AND c.status = 'error')
       OR (CAST(:refusals AS INTEGER) = 1 AND c.is_refusal)
       OR c.latency_ms > CAST(:slow_floor_ms AS INTEGER)
       OR c.cost_usd > CAST(:expensive_usd AS NUMERIC(20, 10)))
  AND c.id NOT IN (SELECT e.call_id FROM eval_cases e)
ORDER BY c.ts, c.id
