-- The history of named replay runs, newest first, with how many answers changed and how many calls failed.
SELECT r.id, r.name, r.created_at, r.finished_at, r.provider, r.calls,
       SUM(CASE WHEN i.changed THEN 1 ELSE 0 END) AS changed,
       SUM(CASE WHEN i.changed IS NOT NULL AND NOT i.changed THEN 1 ELSE 0 END) AS unchanged,
       SUM(CASE WHEN i.error IS NULL THEN 0 ELSE 1 END) AS errors
FROM replay_runs r
LEFT JOIN replay_run_items i ON i.run_id = r.id
GROUP BY r.id, r.name, r.created_at, r.finished_at, r.provider, r.calls
ORDER BY r.created_at DESC, r.id
LIMIT :limit
