-- The rank below percentile q among last + 1 values ({{rank}}): FLOOR(q * last).
FLOOR(q * last)
