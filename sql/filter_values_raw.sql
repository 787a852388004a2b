-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): The values the dashboard's filters offer: what occurs in the window, most frequent first.
SELECT kind, value, calls FROM (
    SELECT 'feature' AS kind, feature AS value, COUNT(*) AS calls FROM llm_calls
    WHERE ts >= :start AND ts < :end AND feature IS NOT NULL GROUP BY feature
    UNION ALL
    SELECT 'model', model, COUNT(*) FROM llm_calls
    WHERE ts >= :start AND ts < :end GROUP BY model
    UNION ALL
    SELECT 'tenant_id', tenant_id, COUNT(*) FROM llm_calls
    WHERE ts >= :start AND ts < :end AND tenant_id IS NOT NULL GROUP BY tenant_id
    UNION ALL
    SELECT 'user_id', user_id, COUNT(*) FROM llm_calls
    WHERE ts >= :start AND ts < :end AND user_id IS NOT NULL GROUP BY user_id
) AS v
ORDER BY kind, calls DESC, value
