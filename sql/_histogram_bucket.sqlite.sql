-- The histogram bucket of a value v ({{histogram_bucket}}): bucket b holds [1.1^b, 1.1^(b+1)) (obs.rollup.GAMMA);
-- -1000 holds 0 (and values below 1: latencies are whole ms, costs are counted in 1e-9 $).
-- CAST truncates, which is FLOOR for v >= 1. Not FLOOR itself: SQLAlchemy replaces SQLite's floor() with
-- Python's math.floor, a call into Python for every row (it takes the GIL back, and waits for it while the app
-- runs Python: the writer's rollup upkeep became ~200x slower).
CASE WHEN v >= 1 THEN CAST(LN(v) / LN(1.1) AS INTEGER) ELSE -1000 END
