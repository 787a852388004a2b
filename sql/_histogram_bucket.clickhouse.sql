-- The histogram bucket of a value v ({{histogram_bucket}}): bucket b holds [1.1^b, 1.1^(b+1)) (obs.rollup.GAMMA);
-- values below 1 share bucket -1000.
if(v >= 1, toInt32(floor(log(v) / log(1.1))), -1000)
