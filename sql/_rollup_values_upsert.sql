-- Add to a filter value row that exists ({{rollup_values_upsert}}).
ON CONFLICT (ts, kind, value) DO UPDATE SET calls = rollup_values.calls + excluded.calls
