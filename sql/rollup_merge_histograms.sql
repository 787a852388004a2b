-- Add one histogram row counted by the writer (obs.rollup.Deltas) to rollup_histograms: what
-- rollup_add_histograms adds by reading the calls back.
INSERT INTO rollup_histograms (grain, ts, feature, model, source, metric, bucket, calls)
VALUES (:grain, :ts, :feature, :model, :source, :metric, :bucket, :calls)
ON CONFLICT (grain, ts, feature, model, source, metric, bucket) DO UPDATE SET
    calls = rollup_histograms.calls + excluded.calls
