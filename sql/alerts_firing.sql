-- Alerts firing now, newest first, with their rule.
SELECT e.id, r.name AS rule, r.kind, e.message, e.subject, e.value, e.baseline, e.volume, e.opened_at,
       e.last_seen_at, e.checks, e.link
FROM alert_events e
JOIN alert_rules r ON r.id = e.rule_id
WHERE e.status = 'firing'
ORDER BY e.opened_at DESC, e.id DESC
