-- Eval datasets: accepted cases per dataset, how many reviewers, and the last change.
SELECT dataset,
       COUNT(*) AS cases,
       COUNT(DISTINCT reviewer) AS reviewers,
       MAX(updated_at) AS last_ts
FROM eval_cases
WHERE dataset IS NOT NULL AND status = 'accepted'
GROUP BY dataset
ORDER BY dataset
