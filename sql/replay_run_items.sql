-- One replay run, call by call: the original and its replay side by side (the replay is missing when it could
-- not be sent, e.g. a call without stored content). changed is NULL unless both calls succeeded.
SELECT i.position AS position, i.call_id AS call_id, i.replay_id AS replay_id, CAST(i.changed AS INTEGER) AS changed,
       i.error AS error, o.feature AS feature, o.model AS model_before, r.model AS model_after,
       o.status AS status_before, r.status AS status_after,
       CAST(o.is_refusal AS INTEGER) AS refusal_before, CAST(r.is_refusal AS INTEGER) AS refusal_after,
       o.finish_reason AS finish_before, r.finish_reason AS finish_after,
       o.cost_usd AS cost_before, r.cost_usd AS cost_after,
       o.latency_ms AS latency_before, r.latency_ms AS latency_after,
       SUBSTR(xo.output_text, 1, 120) AS answer_before,
       SUBSTR(xr.output_text, 1, 120) AS answer_after
FROM replay_run_items i
LEFT JOIN llm_calls o ON o.id = i.call_id
LEFT JOIN llm_calls r ON r.id = i.replay_id
LEFT JOIN llm_call_content xo ON xo.call_id = i.call_id
LEFT JOIN llm_call_content xr ON xr.call_id = i.replay_id
WHERE i.run_id = :run_id
ORDER BY i.position
