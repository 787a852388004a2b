-- The rollups, with the columns they have on the other stores (obs.store.rollup): counts, sums and histograms per
-- hour and per UTC day. SummingMergeTree adds up the rows of one key as parts merge (and at read: final = 1), so
-- the writer only inserts: +1 rows for new calls, -1 then +1 rows around an update (rollup.add and
-- rollup.changing run INSERT ... SELECT over the calls by id, here as on the other stores).

CREATE TABLE IF NOT EXISTS {{table rollup_calls}} {{on_cluster}}
(
    grain LowCardinality(String),
    ts DateTime64(6, 'UTC'),
    feature LowCardinality(String),
    model LowCardinality(String),
    prompt_version LowCardinality(String),
    source LowCardinality(String),
    calls Int64,
    errors Int64,
    refusals Int64,
    thumbs_down Int64,
    unpriced Int64,
    priced_calls Int64,
    cost_usd Decimal(38, 10),
    prompt_tokens Int64,
    completion_tokens Int64,
    ttft_calls Int64,
    ttft_latency_calls Int64,
    ttft_latency_ms Int64
)
ENGINE = {{engine SummingMergeTree}}
PARTITION BY toYYYYMM(ts)
ORDER BY (grain, ts, feature, model, prompt_version, source);

{{distributed rollup_calls rand()}};

CREATE TABLE IF NOT EXISTS {{table rollup_histograms}} {{on_cluster}}
(
    grain LowCardinality(String),
    ts DateTime64(6, 'UTC'),
    feature LowCardinality(String),
    model LowCardinality(String),
    source LowCardinality(String),
    metric LowCardinality(String),
    bucket Int32,
    calls Int64
)
ENGINE = {{engine SummingMergeTree}}
PARTITION BY toYYYYMM(ts)
ORDER BY (grain, ts, feature, model, source, metric, bucket);

{{distributed rollup_histograms rand()}};

CREATE TABLE IF NOT EXISTS {{table rollup_values}} {{on_cluster}}
(
    ts DateTime64(6, 'UTC'),
    kind LowCardinality(String),
    value String,
    calls Int64
)
ENGINE = {{engine SummingMergeTree}}
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, kind, value);

{{distributed rollup_values rand()}}
