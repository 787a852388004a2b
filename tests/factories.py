"""Deterministic records for tests: a realistic spread of features, models, users, costs and latencies."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from obs.records import CallContent, Feedback, LLMCall, Span, new_span_id, new_trace_id

FEATURES = ["ticket_triage", "answer_generation", "query_rewrite", None]
MODELS = ["gpt-5-mini", "gpt-4o", "my-finetune"]
USERS = [f"user_{i}" for i in range(12)] + [None]
REFUSAL = "Sorry, I don't know the answer to that."


def make_call(
    ts: datetime,
    *,
    call_id: str | None = None,
    trace_id: str | None = None,
    model: str = "gpt-5-mini",
    text: str = "Hello!",
    **fields: object,
) -> LLMCall:
    """One call with content whose response has the seed guide's shape (choices[0].message.content)."""
    messages = [{"role": "system", "content": "You triage tickets."}, {"role": "user", "content": "Hi"}]
    response = {
        "id": "chatcmpl-1",
        "model": model,
        "choices": [{"message": {"role": "assistant", "content": text}}],
    }
    content = CallContent(system_prompt="You triage tickets.", messages=messages, response=response, output_text=text)
    values: dict[str, object] = {"prompt_tokens": 120, "completion_tokens": 30, "latency_ms": 900}
    values.update(fields)
    return LLMCall(
        id=call_id or new_span_id(),
        trace_id=trace_id or new_trace_id(),
        ts=ts,
        model=model,
        content=content,
        **values,  # type: ignore[arg-type]
    )


def seeded_calls(now: datetime, n: int = 400, seed: int = 7) -> list[LLMCall]:
    """``n`` calls over the last six days, none near the edge of a 24-hour window (nor of a 7-day one)."""
    rng = random.Random(seed)
    calls = []
    for i in range(n):
        # Whole minutes plus 30 s, never within two hours of now - 24 h: a test that compares with the database's
        # own clock (the seed guide's `now() - interval '24 hours'`) runs up to a whole CI run after `now` was read.
        minutes = rng.randrange(5, 6 * 24 * 60 - 5)
        if abs(minutes - 24 * 60) < 120:
            minutes += 240
        ts = now - timedelta(minutes=minutes, seconds=30)
        model = rng.choice(MODELS)
        refused = rng.random() < 0.08
        unpriced = model == "my-finetune" and rng.random() < 0.7
        failed = rng.random() < 0.04
        latency = rng.randrange(80, 9000) if rng.random() > 0.02 else None
        streamed = latency is not None and rng.random() < 0.25
        calls.append(
            make_call(
                ts,
                call_id=f"call_{i:05d}",
                trace_id=f"trace_{i // 3:05d}",
                model=model,
                text=REFUSAL if refused else f"Answer {i}",
                feature=rng.choice(FEATURES),
                user_id=rng.choice(USERS),
                tenant_id=rng.choice(["acme", "globex"]),
                prompt_tokens=rng.randrange(50, 4000),
                prompt_version=rng.choice(["v1", "v2"]),
                completion_tokens=rng.randrange(5, 800),
                cost_usd=None if unpriced or failed else Decimal(rng.randrange(1, 150_000)) / Decimal(1_000_000),
                latency_ms=latency,
                stream=streamed,
                latency_ms_first_token=rng.randrange(20, latency) if streamed and latency else None,
                is_refusal=refused,
                status="error" if failed else "ok",
                error="RateLimitError: slow down" if failed else None,
            )
        )
    return calls


def thumbs_down(calls: list[LLMCall], every: int = 9) -> list[Feedback]:
    """Thumbs-down feedback on every ``every``-th call."""
    return [
        Feedback(id=f"fb_{c.id}", ts=c.ts + timedelta(minutes=1), value="thumbs_down", call_id=c.id)
        for c in calls[::every]
    ]


def make_span(trace_id: str, start: datetime, name: str = "retrieval", **fields: object) -> Span:
    return Span(
        id=new_span_id(),
        trace_id=trace_id,
        name=name,
        start_ts=start,
        end_ts=start + timedelta(milliseconds=120),
        latency_ms=120,
        **fields,  # type: ignore[arg-type]
    )
