-- The UTC day of ts ({{day}}).
date_trunc('day', ts, 'UTC')
