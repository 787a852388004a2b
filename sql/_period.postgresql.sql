-- The start of the hour or UTC day (column grain) holding ts ({{period}}).
date_trunc(grain, ts, 'UTC')
