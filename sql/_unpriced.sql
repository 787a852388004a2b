-- A call is unpriced ({{unpriced}}, a condition on an llm_calls row): it used the model, yet it has no cost
-- because no price is known (or the provider reported no usage for an answer). A call that failed before any
-- usage (no token counts, no first token) has no cost because it had none: it is not unpriced. Every count of
-- unpriced calls (tiles, pages, alerts, stats, rollups, recost) uses this; obs.pricing.cost_state is the same
-- test in Python.
(cost_usd IS NULL
 AND (status <> 'error' OR prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL
      OR latency_ms_first_token IS NOT NULL))
