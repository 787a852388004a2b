-- Progress through the triage queue: of the cases sampled since the oldest one still waiting, how many were
-- reviewed and how many wait (all zero when nothing waits).
SELECT COUNT(*) AS sampled,
       COALESCE(SUM(CASE WHEN status = 'candidate' THEN 0 ELSE 1 END), 0) AS reviewed,
       COALESCE(SUM(CASE WHEN status = 'candidate' THEN 1 ELSE 0 END), 0) AS waiting
FROM eval_cases
WHERE created_at >= (SELECT MIN(created_at) FROM eval_cases WHERE status = 'candidate')
