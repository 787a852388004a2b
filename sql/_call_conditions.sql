-- The call explorer's conditions ({{call_conditions}}): status, refusals only, a feedback value, text in the answer,
-- unpriced only, a prompt version (an alert's link sets these).
(CAST(:status AS TEXT) IS NULL OR c.status = CAST(:status AS TEXT))
  AND (CAST(:refusals_only AS INTEGER) = 0 OR c.is_refusal)
  AND (CAST(:feedback AS TEXT) IS NULL OR c.user_feedback = CAST(:feedback AS TEXT))
  AND (CAST(:search AS TEXT) IS NULL OR EXISTS (
        SELECT 1 FROM llm_call_content sx
        WHERE sx.call_id = c.id AND LOWER(sx.output_text) LIKE LOWER(CAST(:search AS TEXT))))
  AND (CAST(:unpriced_only AS INTEGER) = 0 OR {{unpriced}})
  AND (CAST(:prompt_version AS TEXT) IS NULL OR c.prompt_version = CAST(:prompt_version AS TEXT))
