-- The time bucket of ts ({{bucket}}): the bucket parameter is 'day' or 'hour', in UTC.
if(CAST(:bucket AS String) = 'hour', toStartOfHour(ts, 'UTC'), toStartOfDay(ts, 'UTC'))
