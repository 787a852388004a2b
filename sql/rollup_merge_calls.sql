-- Add one row of counts the writer made itself (obs.rollup.Deltas: a batch of new calls, per period and
-- dimensions) to rollup_calls: the sums rollup_add_calls makes by reading the calls back.
{{rollup_calls_insert}}
VALUES (:grain, :ts, :feature, :model, :prompt_version, :source, :calls, :errors, :refusals, :thumbs_down,
        :unpriced, :priced_calls, :cost_usd, :prompt_tokens, :completion_tokens, :ttft_calls,
        :ttft_latency_calls, :ttft_latency_ms)
{{rollup_calls_upsert}}
