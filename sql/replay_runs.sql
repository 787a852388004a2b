-- The history of named replay runs, newest first.
SELECT r.id, r.name, r.created_at, r.finished_at, r.provider, r.calls, r.selection, r.overrides, r.summary
FROM replay_runs r
ORDER BY r.created_at DESC, r.id
LIMIT :limit
