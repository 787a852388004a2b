-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): How many calls the call explorer's filters match (for its pager).
SELECT COUNT(*) AS calls
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
WHERE {{filters}}
  AND {{call_conditions}}
