-- The columns of a rollup_calls row ({{rollup_calls_insert}}), in the order of obs.rollup.CALL_COUNTERS.
INSERT INTO rollup_calls (grain, ts, feature, model, prompt_version, source, calls, errors, refusals, thumbs_down,
                          unpriced, priced_calls, cost_usd, prompt_tokens, completion_tokens, ttft_calls,
                          ttft_latency_calls, ttft_latency_ms)
