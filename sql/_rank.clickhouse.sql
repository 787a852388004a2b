-- The rank below percentile q among last + 1 values ({{rank}}): FLOOR(q * last).
toInt64(floor(q * last))
