-- Add to a histogram row that exists ({{rollup_histograms_upsert}}).
ON CONFLICT (grain, ts, feature, model, source, metric, bucket) DO UPDATE SET
    calls = rollup_histograms.calls + excluded.calls
