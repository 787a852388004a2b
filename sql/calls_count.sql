-- How many calls the call explorer's filters match (for its pager), counted up to 10,001: the pager says
-- "10,000+" beyond that, so the count never scans millions of rows (calls_count_raw counts them all).
SELECT COUNT(*) AS calls
FROM (SELECT 1 AS one
      FROM llm_calls c
      WHERE {{filters}}
        AND {{call_conditions}}
      LIMIT 10001) AS matched
