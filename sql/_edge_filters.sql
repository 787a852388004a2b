-- The raw calls a rollup query still reads ({{edge_filters}}): the parts of the window outside its whole hours
-- [hour_start, hour_end) (obs.rollup.spans sets them; the whole window when a filter the rollups lack is set).
((ts >= :start AND ts < :hour_start) OR (ts >= :hour_end AND ts < :end))
  AND {{filter_dims}}
