-- Percentile q of a histogram ({{percentile}}, an aggregate over rows with bucket, n = calls in the bucket,
-- upto = calls in this and lower buckets, last = calls - 1): interpolate between the values of ranks
-- FLOOR(q * last) and the next, as PERCENTILE_CONT does, each value read from its bucket.
SUM(CASE WHEN upto - n <= FLOOR(q * last) AND FLOOR(q * last) < upto
         THEN {{bucket_value}} * (1 - (q * last - FLOOR(q * last))) END)
  + COALESCE(SUM(CASE WHEN upto - n <= FLOOR(q * last) + 1 AND FLOOR(q * last) + 1 < upto
                      THEN {{bucket_value}} * (q * last - FLOOR(q * last)) END), 0)
