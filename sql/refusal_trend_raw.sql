-- The raw-table reference (no rollups; bench.scale's baseline, the tests' exact answer): Refusal rate per time bucket, model and prompt version (a prompt change that makes one model refuse shows).
SELECT {{bucket}} AS bucket,
       model,
       prompt_version,
       COUNT(*) AS calls,
       SUM(CASE WHEN is_refusal THEN 1 ELSE 0 END) AS refusals,
       AVG(CASE WHEN is_refusal THEN 1.0 ELSE 0.0 END) AS refusal_rate
FROM llm_calls
WHERE {{filters}}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
