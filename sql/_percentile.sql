-- Percentile q of a histogram ({{percentile}}, an aggregate over rows with bucket, n = calls in the bucket,
-- upto = calls in this and lower buckets, last = calls - 1): interpolate between the values of ranks
-- FLOOR(q * last) ({{rank}}) and the next, as PERCENTILE_CONT does, each value read from its bucket.
SUM(CASE WHEN upto - n <= {{rank}} AND {{rank}} < upto
         THEN {{bucket_value}} * (1 - (q * last - {{rank}})) END)
  + COALESCE(SUM(CASE WHEN upto - n <= {{rank}} + 1 AND {{rank}} + 1 < upto
                      THEN {{bucket_value}} * (q * last - {{rank}}) END), 0)
