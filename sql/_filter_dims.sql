-- The dashboard's optional filters ({{filter_dims}}, NULL = all); replayed calls are experiments, not the app's
-- traffic: left out unless include_replays is 1.
(CAST(:feature AS TEXT) IS NULL OR feature = CAST(:feature AS TEXT))
  AND (CAST(:model AS TEXT) IS NULL OR model = CAST(:model AS TEXT))
  AND (CAST(:tenant_id AS TEXT) IS NULL OR tenant_id = CAST(:tenant_id AS TEXT))
  AND (CAST(:user_id AS TEXT) IS NULL OR user_id = CAST(:user_id AS TEXT))
  AND (COALESCE(CAST(:include_replays AS INTEGER), 0) = 1 OR source <> 'replay')
