-- Alert rules: feedback on each user's calls in a window, oldest first (a streak is the run at the end).
SELECT c.user_id, f.ts, f.value
FROM feedback f
JOIN llm_calls c ON c.id = f.call_id
WHERE f.ts >= :start AND f.ts < :end AND c.user_id IS NOT NULL
ORDER BY c.user_id, f.ts, f.id
