-- Feedback stored before its call (the call came back from the spool later) for the calls whose ids are in the
-- JSON array ids, oldest first: the writer sets each call's user_feedback to the latest.
SELECT f.call_id, f.value
FROM feedback f
WHERE f.call_id IN {{call_ids}}
ORDER BY f.ts
