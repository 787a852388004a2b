-- The rollup_calls rows of the window ({{rollup_calls}}, a subquery): whole days [day_start, day_end) from the daily
-- rows, the other whole hours [hour_start, hour_end) from the hourly ones (obs.rollup.spans sets them). Three
-- ranges of the primary key, each one contiguous read.
(SELECT * FROM rollup_calls WHERE grain = 'day' AND ts >= :day_start AND ts < :day_end
 UNION ALL
 SELECT * FROM rollup_calls WHERE grain = 'hour' AND ts >= :hour_start AND ts < :day_start
 UNION ALL
 SELECT * FROM rollup_calls WHERE grain = 'hour' AND ts >= :day_end AND ts < :hour_end)
