-- Add the calls ids (a JSON array) to the hourly and daily histograms (sign 1), or take them away (sign -1):
-- latency of every call (ms), time to first token of streamed calls (ms), cost of priced calls (in 1e-9 $).
INSERT INTO rollup_histograms (grain, ts, feature, model, source, metric, bucket, calls)
SELECT grain, {{period}}, feature, model, source, metric, {{histogram_bucket}}, s * COUNT(*)
FROM (
    SELECT g.grain, c.ts, COALESCE(c.feature, '') AS feature, c.model, c.source, m.metric,
           CASE m.metric WHEN 'latency' THEN CAST(c.latency_ms AS DOUBLE PRECISION)
                         WHEN 'ttft' THEN CASE WHEN c.stream THEN CAST(c.latency_ms_first_token AS DOUBLE PRECISION) END
                         ELSE CAST(c.cost_usd AS DOUBLE PRECISION) * 1000000000 END AS v,
           CAST(:sign AS INTEGER) AS s
    FROM llm_calls c
    CROSS JOIN (SELECT 'hour' AS grain UNION ALL SELECT 'day') AS g
    CROSS JOIN (SELECT 'latency' AS metric UNION ALL SELECT 'ttft' UNION ALL SELECT 'cost') AS m
    WHERE c.id IN {{call_ids}}
) AS r
WHERE v IS NOT NULL
GROUP BY grain, 2, feature, model, source, metric, 7, s
{{rollup_histograms_upsert}}
