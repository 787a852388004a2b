-- The rollup rows of the window ({{rollup_filters}}): whole days [day_start, day_end) from the daily rows, the
-- other whole hours [hour_start, hour_end) from the hourly ones; the feature, model and replay filters.
((grain = 'day' AND ts >= :day_start AND ts < :day_end)
  OR (grain = 'hour' AND ((ts >= :hour_start AND ts < :day_start) OR (ts >= :day_end AND ts < :hour_end))))
  AND (CAST(:feature AS TEXT) IS NULL OR feature = CAST(:feature AS TEXT))
  AND (CAST(:model AS TEXT) IS NULL OR model = CAST(:model AS TEXT))
  AND (COALESCE(CAST(:include_replays AS INTEGER), 0) = 1 OR source <> 'replay')
