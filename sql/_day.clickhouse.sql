-- The UTC day of ts ({{day}}).
toStartOfDay(ts, 'UTC')
