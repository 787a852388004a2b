-- The slowest calls in the window, slowest first.
SELECT id, ts, feature, model, user_id, latency_ms, latency_ms_first_token, status, trace_id
FROM llm_calls
WHERE {{filters}} AND latency_ms IS NOT NULL
ORDER BY latency_ms DESC, id
LIMIT :limit
