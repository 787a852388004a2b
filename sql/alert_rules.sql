-- Alert rules with how many of their alerts fire now and when each last fired.
SELECT r.id, r.name, r.kind, r.scope, r.window_minutes, r.threshold, r.factor, r.min_volume, r.cooldown_minutes,
       r.enabled,
       SUM(CASE WHEN e.status = 'firing' THEN 1 ELSE 0 END) AS firing,
       MAX(e.last_seen_at) AS last_fired
FROM alert_rules r
LEFT JOIN alert_events e ON e.rule_id = r.id
GROUP BY r.id, r.name, r.kind, r.scope, r.window_minutes, r.threshold, r.factor, r.min_volume, r.cooldown_minutes,
         r.enabled
ORDER BY r.id
