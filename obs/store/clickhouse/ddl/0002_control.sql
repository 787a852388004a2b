-- The control tables as ClickHouse sees them: read (and joined with the calls) from the control store, a SQLite
-- file or a PostgreSQL database where obs updates and deletes them (obs.store.clickhouse.control). {{control t}}
-- is the table engine that reads table t there. On a cluster each server reads the same control store.

CREATE TABLE IF NOT EXISTS eval_cases {{on_cluster}}
(
    id Int64,
    dataset Nullable(String),
    call_id String,
    status String,
    reasons Nullable(String),
    expected_output Nullable(String),
    label Nullable(String),
    notes Nullable(String),
    reviewer Nullable(String),
    created_at DateTime64(6, 'UTC'),
    updated_at DateTime64(6, 'UTC'),
    reviewed_at Nullable(DateTime64(6, 'UTC')),
    reject_reason Nullable(String)
)
ENGINE = {{control eval_cases}};

CREATE TABLE IF NOT EXISTS alert_rules {{on_cluster}}
(
    id Int64,
    name String,
    kind String,
    scope String,
    window_minutes Int64,
    threshold Nullable(Float64),
    factor Nullable(Float64),
    min_volume Int64,
    cooldown_minutes Int64,
    enabled Bool,
    created_at DateTime64(6, 'UTC'),
    updated_at DateTime64(6, 'UTC')
)
ENGINE = {{control alert_rules}};

CREATE TABLE IF NOT EXISTS alert_events {{on_cluster}}
(
    id Int64,
    rule_id Int64,
    subject_key String,
    subject String,
    status String,
    opened_at DateTime64(6, 'UTC'),
    last_seen_at DateTime64(6, 'UTC'),
    resolved_at Nullable(DateTime64(6, 'UTC')),
    checks Int64,
    value Nullable(Float64),
    baseline Nullable(Float64),
    volume Nullable(Int64),
    message String,
    link Nullable(String)
)
ENGINE = {{control alert_events}};

CREATE TABLE IF NOT EXISTS alert_notifications {{on_cluster}}
(
    id Int64,
    event_id Int64,
    change String,
    target String,
    status String,
    attempts Int64,
    last_error Nullable(String),
    created_at DateTime64(6, 'UTC'),
    sent_at Nullable(DateTime64(6, 'UTC'))
)
ENGINE = {{control alert_notifications}};

CREATE TABLE IF NOT EXISTS replay_runs {{on_cluster}}
(
    id String,
    name String,
    created_at DateTime64(6, 'UTC'),
    finished_at DateTime64(6, 'UTC'),
    provider Nullable(String),
    selection Nullable(String),
    overrides Nullable(String),
    calls Int64,
    summary Nullable(String)
)
ENGINE = {{control replay_runs}};

CREATE TABLE IF NOT EXISTS replay_run_items {{on_cluster}}
(
    run_id String,
    position Int64,
    call_id String,
    replay_id Nullable(String),
    changed Nullable(Bool),
    error Nullable(String)
)
ENGINE = {{control replay_run_items}}
