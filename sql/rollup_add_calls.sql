-- Add the calls ids (a JSON array) to the hourly and daily rollups (sign 1), or take them away (sign -1,
-- before they are deleted or changed). The writer runs it in the transaction that inserts the calls.
{{rollup_calls_insert}}
SELECT grain, {{period}}, feature, model, prompt_version, source,
       s * COUNT(*),
       s * SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END),
       s * SUM(CASE WHEN is_refusal THEN 1 ELSE 0 END),
       s * SUM(CASE WHEN user_feedback = 'thumbs_down' THEN 1 ELSE 0 END),
       s * SUM(unpriced),
       s * COUNT(cost_usd),
       s * COALESCE(SUM(cost_usd), 0),
       s * COALESCE(SUM(prompt_tokens), 0),
       s * COALESCE(SUM(completion_tokens), 0),
       s * SUM(CASE WHEN ttft THEN 1 ELSE 0 END),
       s * SUM(CASE WHEN ttft AND latency_ms IS NOT NULL THEN 1 ELSE 0 END),
       s * COALESCE(SUM(CASE WHEN ttft THEN latency_ms END), 0)
FROM (
    SELECT g.grain, c.ts, COALESCE(c.feature, '') AS feature, c.model, COALESCE(c.prompt_version, '') AS prompt_version,
           c.source, c.status, c.is_refusal, c.user_feedback, c.cost_usd, c.prompt_tokens, c.completion_tokens,
           c.latency_ms, (c.stream AND c.latency_ms_first_token IS NOT NULL) AS ttft, CAST(:sign AS INTEGER) AS s,
           CASE WHEN {{unpriced}} THEN 1 ELSE 0 END AS unpriced
    FROM llm_calls c
    CROSS JOIN (SELECT 'hour' AS grain UNION ALL SELECT 'day') AS g
    WHERE c.id IN {{call_ids}}
) AS r
WHERE true
GROUP BY grain, 2, feature, model, prompt_version, source, s
{{rollup_calls_upsert}}
