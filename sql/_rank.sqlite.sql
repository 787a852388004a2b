-- The rank below percentile q among last + 1 values ({{rank}}): FLOOR(q * last), written as a CAST (which
-- truncates, the same for q * last >= 0) because SQLAlchemy replaces SQLite's floor() with a Python function.
CAST(q * last AS INTEGER)
