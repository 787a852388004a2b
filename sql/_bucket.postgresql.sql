-- The time bucket of ts ({{bucket}}): the bucket parameter is 'day' or 'hour', in UTC.
date_trunc(CAST(:bucket AS TEXT), ts, 'UTC')
