-- The start of the hour or UTC day (column grain) holding ts ({{period}}), as stored timestamps are written.
CASE grain WHEN 'hour' THEN strftime('%Y-%m-%d %H:00:00.000000', ts) ELSE date(ts) || ' 00:00:00.000000' END
