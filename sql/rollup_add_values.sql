-- Add the calls ids (a JSON array) to the filter values seen per UTC day (sign 1), or take them away (sign -1).
INSERT INTO rollup_values (ts, kind, value, calls)
SELECT {{period}}, kind, value, s * COUNT(*)
FROM (
    SELECT 'day' AS grain, c.ts, k.kind,
           CASE k.kind WHEN 'feature' THEN c.feature WHEN 'model' THEN c.model
                       WHEN 'tenant_id' THEN c.tenant_id ELSE c.user_id END AS value,
           CAST(:sign AS INTEGER) AS s
    FROM llm_calls c
    CROSS JOIN (SELECT 'feature' AS kind UNION ALL SELECT 'model' UNION ALL SELECT 'tenant_id'
                UNION ALL SELECT 'user_id') AS k
    WHERE c.id IN {{call_ids}}
) AS r
WHERE value IS NOT NULL
GROUP BY 1, kind, value, s
{{rollup_values_upsert}}
