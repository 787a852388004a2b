-- The dashboard filters a rollup row can answer ({{rollup_dims}}): feature, model, replays (a tenant or user
-- filter reads the raw table instead: obs.rollup.spans leaves the rollup ranges empty then).
(CAST(:feature AS TEXT) IS NULL OR feature = CAST(:feature AS TEXT))
  AND (CAST(:model AS TEXT) IS NULL OR model = CAST(:model AS TEXT))
  AND (COALESCE(CAST(:include_replays AS INTEGER), 0) = 1 OR source <> 'replay')
