-- How many calls the call explorer's filters match (for its pager).
SELECT COUNT(*) AS calls
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
WHERE {{filters}}
  AND (CAST(:status AS TEXT) IS NULL OR c.status = CAST(:status AS TEXT))
  AND (CAST(:refusals_only AS INTEGER) = 0 OR c.is_refusal)
  AND (CAST(:feedback AS TEXT) IS NULL OR c.user_feedback = CAST(:feedback AS TEXT))
  AND (CAST(:search AS TEXT) IS NULL OR LOWER(x.output_text) LIKE LOWER(CAST(:search AS TEXT)))
