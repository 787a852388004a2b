-- Webhook notifications not delivered yet (retried by the next `obs alerts check`).
SELECT n.id, n.event_id, n.change, n.target, n.attempts, n.last_error, n.created_at
FROM alert_notifications n
WHERE n.status = 'pending'
ORDER BY n.id
