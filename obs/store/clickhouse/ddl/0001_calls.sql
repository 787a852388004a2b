-- The hot tables: calls, their content, spans, feedback and the texts stored once.
--
-- Every table is a ReplacingMergeTree on (_version, _deleted): a retried or spooled write of the same id is stored
-- once (reads use FINAL), and an update (feedback, recost, retention) is a newer version of the row, never a
-- mutation. The sorting key holds what never changes for a row (its time, feature, model and id).
-- {{...}} is filled in by obs.store.clickhouse.ddl: {{on_cluster}}, a {{table}} name (its _local table on a
-- cluster), an {{engine ...}} (Replicated on a cluster) and {{distributed table key}} (nothing on one server).

CREATE TABLE IF NOT EXISTS {{table llm_calls}} {{on_cluster}}
(
    id String,
    trace_id String,
    parent_id Nullable(String),
    ts DateTime64(6, 'UTC'),
    user_id Nullable(String),
    session_id Nullable(String),
    tenant_id LowCardinality(Nullable(String)),
    feature LowCardinality(Nullable(String)),
    tags Nullable(String),
    metadata Nullable(String),
    provider LowCardinality(Nullable(String)),
    model LowCardinality(String),
    response_model LowCardinality(Nullable(String)),
    temperature Nullable(Float64),
    params Nullable(String),
    prompt_version LowCardinality(Nullable(String)),
    finish_reason LowCardinality(Nullable(String)),
    prompt_tokens Nullable(Int64),
    completion_tokens Nullable(Int64),
    cached_tokens Nullable(Int64),
    reasoning_tokens Nullable(Int64),
    cost_usd Nullable(Decimal(20, 10)),
    latency_ms Nullable(Int64),
    latency_ms_first_token Nullable(Int64),
    stream Bool,
    status LowCardinality(String),
    error Nullable(String),
    error_type LowCardinality(Nullable(String)),
    is_refusal Bool,
    user_feedback LowCardinality(Nullable(String)),
    content_state LowCardinality(String),
    source LowCardinality(String),
    replay_of Nullable(String),
    privacy_policy LowCardinality(Nullable(String)),
    cache_write_tokens Nullable(Int64),
    _version UInt64,
    _deleted UInt8 DEFAULT 0,
    INDEX id_bloom id TYPE bloom_filter GRANULARITY 4,
    INDEX trace_bloom trace_id TYPE bloom_filter GRANULARITY 4,
    INDEX session_bloom session_id TYPE bloom_filter GRANULARITY 4,
    INDEX user_bloom user_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = {{engine ReplacingMergeTree(_version, _deleted)}}
PARTITION BY toYYYYMM(ts)
-- Windows first (a day, then the hour inside it), then the dashboard's usual filters: each query reads the days of
-- its window, and within a day the granules of one feature and model.
ORDER BY (toDate(ts), feature, model, ts, id)
SETTINGS allow_nullable_key = 1;

{{distributed llm_calls cityHash64(trace_id)}};

CREATE TABLE IF NOT EXISTS {{table llm_call_content}} {{on_cluster}}
(
    call_id String,
    ts DateTime64(6, 'UTC'),
    trace_id String,
    system_prompt Nullable(String) CODEC(ZSTD(3)),
    messages Nullable(String) CODEC(ZSTD(3)),
    tools Nullable(String) CODEC(ZSTD(3)),
    response Nullable(String) CODEC(ZSTD(3)),
    tool_calls Nullable(String) CODEC(ZSTD(3)),
    output_text Nullable(String) CODEC(ZSTD(3)),
    system_prompt_hash Nullable(String),
    _version UInt64,
    _deleted UInt8 DEFAULT 0
)
ENGINE = {{engine ReplacingMergeTree(_version, _deleted)}}
PARTITION BY toYYYYMM(ts)
ORDER BY call_id;

{{distributed llm_call_content cityHash64(trace_id)}};

CREATE TABLE IF NOT EXISTS {{table llm_texts}} {{on_cluster}}
(
    hash String,
    text String CODEC(ZSTD(3)),
    _version UInt64,
    _deleted UInt8 DEFAULT 0
)
ENGINE = {{engine ReplacingMergeTree(_version, _deleted)}}
ORDER BY hash;

{{distributed llm_texts cityHash64(hash)}};

CREATE TABLE IF NOT EXISTS {{table spans}} {{on_cluster}}
(
    id String,
    trace_id String,
    parent_id Nullable(String),
    name String,
    kind LowCardinality(String),
    start_ts DateTime64(6, 'UTC'),
    end_ts Nullable(DateTime64(6, 'UTC')),
    latency_ms Nullable(Int64),
    status LowCardinality(String),
    error Nullable(String),
    input Nullable(String) CODEC(ZSTD(3)),
    output Nullable(String) CODEC(ZSTD(3)),
    metadata Nullable(String),
    user_id Nullable(String),
    session_id Nullable(String),
    tenant_id LowCardinality(Nullable(String)),
    feature LowCardinality(Nullable(String)),
    tags Nullable(String),
    _version UInt64,
    _deleted UInt8 DEFAULT 0
)
ENGINE = {{engine ReplacingMergeTree(_version, _deleted)}}
PARTITION BY toYYYYMM(start_ts)
ORDER BY (trace_id, id);

{{distributed spans cityHash64(trace_id)}};

CREATE TABLE IF NOT EXISTS {{table feedback}} {{on_cluster}}
(
    id String,
    ts DateTime64(6, 'UTC'),
    call_id Nullable(String),
    trace_id Nullable(String),
    value LowCardinality(String),
    score Nullable(Float64),
    comment Nullable(String),
    source LowCardinality(String),
    reviewer Nullable(String),
    _version UInt64,
    _deleted UInt8 DEFAULT 0,
    INDEX call_bloom call_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = {{engine ReplacingMergeTree(_version, _deleted)}}
PARTITION BY toYYYYMM(ts)
ORDER BY id;

{{distributed feedback cityHash64(coalesce(call_id, trace_id, id))}};
