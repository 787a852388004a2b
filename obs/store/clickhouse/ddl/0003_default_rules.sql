-- The default alert rules (obs.alerts.rules.DEFAULT_RULES; tests/test_clickhouse_store.py checks they match),
-- written through to the control store, as Alembic's migration 0003 does on the other stores.

INSERT INTO alert_rules (id, name, kind, scope, window_minutes, threshold, factor, min_volume, cooldown_minutes,
                         enabled, created_at, updated_at)
VALUES
    (1, 'Latency p95 up against last week', 'latency_p95', 'feature_model', 4320, NULL, 1.5, 20, 360, true, now64(6), now64(6)),
    (2, 'Refusal rate jump for a model and prompt version', 'refusal_jump', 'feature_model_prompt', 10080, NULL, 3.0, 20, 1440, true, now64(6), now64(6)),
    (3, 'Error rate of a feature', 'error_rate', 'feature', 60, 0.2, NULL, 20, 60, true, now64(6), now64(6)),
    (4, 'User spending far above the others', 'cost_budget', 'user', 1440, NULL, 10.0, 3, 1440, true, now64(6), now64(6)),
    (5, 'Daily budget per feature', 'cost_budget', 'feature', 1440, 100.0, NULL, 1, 1440, true, now64(6), now64(6)),
    (6, 'Daily budget per tenant', 'cost_budget', 'tenant', 1440, 250.0, NULL, 1, 1440, true, now64(6), now64(6)),
    (7, 'Unhappy user: thumbs-down in a row', 'feedback_streak', 'user', 10080, 5, NULL, 5, 1440, true, now64(6), now64(6)),
    (8, 'Calls of a model that cannot be priced', 'unpriced_model', 'model', 10080, NULL, NULL, 1, 1440, true, now64(6), now64(6))
