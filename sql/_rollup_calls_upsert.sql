-- A rollup_calls row that exists already gets the new counts added to its own ({{rollup_calls_upsert}}).
ON CONFLICT (grain, ts, feature, model, prompt_version, source) DO UPDATE SET
    calls = rollup_calls.calls + excluded.calls,
    errors = rollup_calls.errors + excluded.errors,
    refusals = rollup_calls.refusals + excluded.refusals,
    thumbs_down = rollup_calls.thumbs_down + excluded.thumbs_down,
    unpriced = rollup_calls.unpriced + excluded.unpriced,
    priced_calls = rollup_calls.priced_calls + excluded.priced_calls,
    cost_usd = rollup_calls.cost_usd + excluded.cost_usd,
    prompt_tokens = rollup_calls.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = rollup_calls.completion_tokens + excluded.completion_tokens,
    ttft_calls = rollup_calls.ttft_calls + excluded.ttft_calls,
    ttft_latency_calls = rollup_calls.ttft_latency_calls + excluded.ttft_latency_calls,
    ttft_latency_ms = rollup_calls.ttft_latency_ms + excluded.ttft_latency_ms
