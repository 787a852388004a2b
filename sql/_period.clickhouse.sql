-- The start of the hour or UTC day (column grain) holding ts ({{period}}).
if(grain = 'hour', toStartOfHour(ts, 'UTC'), toStartOfDay(ts, 'UTC'))
