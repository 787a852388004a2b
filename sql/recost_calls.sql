-- Calls since a date, one page at a time in (ts, id) order, for `obs recost`: those with known token counts (to
-- reprice) and the unpriced ones without them (counted: they stay unpriced).
SELECT id, ts, provider, model, response_model,
       prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cache_write_tokens, cost_usd
FROM llm_calls
WHERE ts >= :since
  AND (ts > :after_ts OR (ts = :after_ts AND id > :after_id))
  AND ((prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL) OR {{unpriced}})
ORDER BY ts, id
LIMIT :limit
