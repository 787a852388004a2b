-- The value a histogram bucket stands for ({{bucket_value}}): 2 * 1.1^(b+1) / 2.1, within 1/21 (4.8%) of every
-- value in [1.1^b, 1.1^(b+1)).
CASE WHEN bucket = -1000 THEN 0 ELSE 2.0 * POWER(1.1, bucket + 1) / 2.1 END
