-- Add one row counted by the writer (obs.rollup.Deltas) to the filter values seen per UTC day: what
-- rollup_add_values adds by reading the calls back.
INSERT INTO rollup_values (ts, kind, value, calls)
VALUES (:ts, :kind, :value, :calls)
ON CONFLICT (ts, kind, value) DO UPDATE SET calls = rollup_values.calls + excluded.calls
