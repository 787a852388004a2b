-- A call kept longer by retention it has feedback or is in an eval dataset, and is younger than keep_before.
(c.ts >= :keep_before AND (c.user_feedback IS NOT NULL
   OR EXISTS (SELECT 1 FROM feedback f WHERE f.call_id = c.id)
   OR c.id IN (SELECT e.call_id FROM eval_cases e)))
