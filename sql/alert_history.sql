-- Alert events that opened, fired or resolved in a window, newest first.
SELECT e.id, r.name AS rule, e.status, e.message, e.opened_at, e.last_seen_at, e.resolved_at, e.checks, e.link
FROM alert_events e
JOIN alert_rules r ON r.id = e.rule_id
WHERE e.last_seen_at >= :start AND e.opened_at < :end
ORDER BY e.opened_at DESC, e.id DESC
LIMIT 500
