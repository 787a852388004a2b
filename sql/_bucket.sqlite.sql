-- The time bucket of ts ({{bucket}}): the bucket parameter is 'day' or 'hour', in UTC.
CASE :bucket WHEN 'hour' THEN strftime('%Y-%m-%d %H:00:00', ts) ELSE date(ts) END
