-- Shared by the dashboard's queries ({{filters}}): the time window and the optional filters (NULL = all).
ts >= :start AND ts < :end
  AND {{filter_dims}}
