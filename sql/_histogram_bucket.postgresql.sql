-- The histogram bucket of a value v ({{histogram_bucket}}): bucket b holds [1.1^b, 1.1^(b+1)) (obs.rollup.GAMMA);
-- -1000 holds 0 (and values below 1: latencies are whole ms, costs are counted in 1e-9 $).
CASE WHEN v >= 1 THEN CAST(FLOOR(LN(v) / LN(1.1)) AS INTEGER) ELSE -1000 END
