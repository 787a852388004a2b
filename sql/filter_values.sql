-- The values the dashboard's filters offer: what occurs on the UTC days the window touches, most frequent first
-- (read from rollup_values; filter_values_raw asks the raw table for the same days).
SELECT kind, value, SUM(calls) AS calls
FROM rollup_values
WHERE ts >= :values_start AND ts < :values_end
GROUP BY kind, value
HAVING SUM(calls) > 0
ORDER BY kind, SUM(calls) DESC, value
