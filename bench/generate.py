"""Fill a store with N realistic calls fast (a benchmark fixture, not demo traffic).

Rows are built directly and written through the store's batch path (COPY on PostgreSQL, multi-row INSERT on
SQLite), skipping the SDK: this is for measuring the dashboard on 1M+ calls, where the demo would take hours.

    .venv/bin/python -m bench.generate --database-url sqlite:///big.db --calls 1000000 [--days 30] [--reset]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from obs.records import CallContent, LLMCall
from obs.store import rows
from obs.store.store import Store

FEATURES = ["help_answer", "query_rewrite", "ticket_triage", "thread_summary", "sql_agent", "email_draft"]
#: model -> (share, median latency ms, $ per M input, $ per M output); flowdesk-tuned-1 has no price.
MODELS = {
    "gpt-5-mini": (0.45, 1800, Decimal("0.25"), Decimal("2")),
    "gpt-4.1": (0.2, 2600, Decimal("2"), Decimal("8")),
    "claude-haiku-4-5": (0.2, 700, Decimal("1"), Decimal("5")),
    "gpt-5": (0.1, 4200, Decimal("1.25"), Decimal("10")),
    "flowdesk-tuned-1": (0.05, 400, None, None),
}
TENANTS = [f"tenant-{i:02d}" for i in range(10)]
USERS = [f"user-{i:05d}" for i in range(2000)]
SYSTEM_PROMPTS = [
    f"You are the {f.replace('_', ' ')} assistant of Flowdesk, prompt v{v}. Follow the house style guide. " * 4
    for f in FEATURES
    for v in (1, 2, 3)
]
BATCH = 5000


def _calls(n: int, days: int, rng: random.Random, start_index: int, total: int) -> list[LLMCall]:
    """``n`` calls; call i of ``total`` lands at i/total of the window, so batches arrive in time order."""
    start = datetime.now(UTC) - timedelta(days=days)
    step = days * 86400 / max(total, 1)
    models = list(MODELS)
    weights = [m[0] for m in MODELS.values()]
    out = []
    for i in range(n):
        index = start_index + i
        model = rng.choices(models, weights)[0]
        _, median_ms, price_in, price_out = MODELS[model]
        feature = rng.choice(FEATURES)
        prompt_tokens = int(rng.lognormvariate(6.5, 0.6))
        completion_tokens = int(rng.lognormvariate(5, 0.7))
        cached = (prompt_tokens // 2 // 128) * 128 if rng.random() < 0.3 else 0
        latency = int(median_ms * rng.lognormvariate(0, 0.45))
        failed = rng.random() < 0.01
        refused = not failed and rng.random() < 0.03
        streamed = rng.random() < 0.2
        cost = None
        if price_in is not None and price_out is not None and not failed:
            cost = (
                (prompt_tokens - cached) * price_in + cached * price_in / 10 + completion_tokens * price_out
            ) / 10**6
        system = SYSTEM_PROMPTS[(FEATURES.index(feature) * 3 + rng.randrange(3)) % len(SYSTEM_PROMPTS)]
        question = f"Question {index}: how do I configure {rng.choice(FEATURES)} for tenant {rng.choice(TENANTS)}?"
        answer = "I'm sorry, but I can't help with that." if refused else f"Answer {index}: " + "step. " * 40
        out.append(
            LLMCall(
                id=f"b{index:012d}",
                trace_id=f"t{index // 3:012d}",
                ts=start + timedelta(seconds=step * index),
                model=model,
                user_id=rng.choice(USERS),
                tenant_id=rng.choice(TENANTS),
                feature=feature,
                provider="openai",
                response_model=model,
                prompt_version=f"v{1 + rng.randrange(3)}",
                finish_reason="stop",
                prompt_tokens=None if failed else prompt_tokens,
                completion_tokens=None if failed else completion_tokens,
                cached_tokens=None if failed else cached,
                cost_usd=cost,
                latency_ms=latency,
                latency_ms_first_token=int(latency * rng.uniform(0.1, 0.4)) if streamed else None,
                stream=streamed,
                status="error" if failed else "ok",
                error="RateLimitError (429): rate limited" if failed else None,
                error_type="RateLimitError" if failed else None,
                is_refusal=refused,
                user_feedback="thumbs_down" if rng.random() < 0.02 else None,
                content=CallContent(
                    system_prompt=system,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
                    response={"id": f"chatcmpl-{index}", "choices": [{"message": {"content": answer}}]},
                    output_text=answer,
                ),
            )
        )
    return out


def generate(url: str, calls: int, days: int = 30, seed: int = 1, reset: bool = False) -> float:
    """Write ``calls`` calls; returns the seconds it took."""
    store = Store(url)
    if reset:
        store.reset()
    rng = random.Random(seed)
    started = time.perf_counter()
    done = 0
    while done < calls:
        chunk = _calls(min(BATCH, calls - done), days, rng, done, calls)
        batch = rows.EncodedBatch()
        for call in chunk:
            batch.add(call, store.codecs)
        store.write_encoded(batch)
        done += len(chunk)
        if done % 100_000 < BATCH:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} calls, {rate:,.0f}/s", flush=True)
    store.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    seconds = generate(args.database_url, args.calls, args.days, reset=args.reset)
    print(f"wrote {args.calls:,} calls in {seconds:,.0f} s ({args.calls / seconds:,.0f}/s)")


if __name__ == "__main__":
    main()
