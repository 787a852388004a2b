-- Alert rules: calls, failures, refusals and unpriced calls per feature, model and prompt version in a window.
-- Replays are left out: they are experiments, not the app's traffic.
SELECT feature,
       model,
       prompt_version,
       COUNT(*) AS calls,
       SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
       SUM(CASE WHEN is_refusal THEN 1 ELSE 0 END) AS refusals,
       SUM(CASE WHEN {{unpriced}} THEN 1 ELSE 0 END) AS unpriced
FROM llm_calls
WHERE ts >= :start AND ts < :end AND source <> 'replay'
GROUP BY feature, model, prompt_version
ORDER BY feature, model, prompt_version
