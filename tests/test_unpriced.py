"""Unpriced means "no price", not "failed": a call that failed before any usage has no cost and is unpriced
nowhere; a call that used a model with no known price is unpriced on every tile, page, alert and CLI count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import obs
from obs import config
from obs.alerts import engine
from obs.alerts.rules import DEFAULT_RULES, Rule
from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.cli.main import main
from obs.demo.run import run_demo
from obs.pricing.prices import Pricer, Usage
from obs.pricing.recost import recost
from obs.records import LLMCall, cost_state
from obs.store import queries, rollup
from obs.store.schema import rollup_calls
from obs.store.store import Store
from obs.ui.views import cost_text
from tests.factories import make_call

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_TIME = {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2100, 1, 1, tzinfo=UTC)}
#: Not on the hour: the rollups' whole days and hours plus raw calls at both edges.
WEEK = {"start": NOW - timedelta(days=7, minutes=13), "end": NOW - timedelta(minutes=7)}


def rate_limited(model: str = "claude-haiku-4-5") -> LLMCall:
    """A 429 as the extractor records it from the real SDK's exception: no response, so no usage."""
    request = httpx.Request("POST", "https://api.example.test/v1/chat/completions")
    error = openai.RateLimitError("Error code: 429", response=httpx.Response(429, request=request), body=None)
    event = CallEvent(
        kind="chat", call_id="rate_limited", trace_id="t429", parent_id=None, ts=NOW - timedelta(hours=3),
        start_ns=0, end_ns=200_000_000, request={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        error=error, attrs={"feature": "help_answer", "user_id": "u1", "tenant_id": "acme"},
    )  # fmt: skip
    return build_call(event, Pricer(), config.REFUSAL_PATTERNS)


def cases() -> list[LLMCall]:
    """Two calls without a cost that are not unpriced (they failed first), two that are, one priced."""
    who: dict[str, Any] = {"feature": "help_answer", "user_id": "u1", "tenant_id": "acme"}
    no_usage = {"prompt_tokens": None, "completion_tokens": None, "cost_usd": None}
    return [
        rate_limited(),
        make_call(NOW - timedelta(hours=30), call_id="failed_500", model="gpt-4.1", status="error",
                  error="InternalServerError: boom", error_type="InternalServerError", **no_usage, **who),
        make_call(NOW - timedelta(hours=2), call_id="tuned", model="flowdesk-tuned-1", cost_usd=None, **who),
        make_call(NOW - timedelta(hours=5), call_id="cut_off", model="my-finetune", stream=True, status="error",
                  error="APIConnectionError: connection lost", error_type="APIConnectionError", prompt_tokens=120,
                  completion_tokens=7, latency_ms_first_token=300, cost_usd=None, **who),
        make_call(NOW - timedelta(hours=26), call_id="priced", model="claude-haiku-4-5", cost_usd=Decimal("0.0012"),
                  **who),
    ]  # fmt: skip


#: The unpriced calls of ``cases()``, by model.
UNPRICED_BY_MODEL = {"claude-haiku-4-5": 0, "gpt-4.1": 0, "flowdesk-tuned-1": 1, "my-finetune": 1}


def test_a_429_without_usage_on_a_priced_model_has_no_cost_and_is_not_unpriced() -> None:
    call = rate_limited()
    assert Pricer().cost("claude-haiku-4-5", Usage(prompt_tokens=100, completion_tokens=10)) is not None
    assert call.status == "error" and call.error_type == "RateLimitError"
    assert call.cost_usd is None and call.prompt_tokens is None and call.completion_tokens is None
    assert cost_state(call) == "no_usage"


def test_a_call_that_used_a_model_without_a_known_price_is_unpriced_even_when_it_failed() -> None:
    by_id = {c.id: cost_state(c) for c in cases()}
    assert by_id == {"rate_limited": "no_usage", "failed_500": "no_usage", "tuned": "unpriced",
                     "cut_off": "unpriced", "priced": "priced"}  # fmt: skip
    # an answer whose provider reported no usage still cost something: unknown, not nothing
    streamed = make_call(NOW, stream=True, prompt_tokens=None, completion_tokens=None, cost_usd=None)
    assert cost_state(streamed) == "unpriced"


def test_the_call_detail_says_no_cost_for_a_call_that_failed_before_any_usage() -> None:
    texts = {c.id: cost_text(c) for c in cases()}
    assert texts["rate_limited"] == texts["failed_500"] == "**no cost** (failed before any usage)"
    assert texts["tuned"] == texts["cut_off"] == "cost **unpriced** (no known price; not $0)"
    assert texts["priced"] == "cost **$0.001200**"
    no_usage_reported = make_call(NOW, prompt_tokens=None, completion_tokens=None, cost_usd=None)
    assert cost_text(no_usage_reported) == "cost **unpriced** (no usage reported; not $0)"


def unpriced_counts(store: Store, window: dict[str, datetime], at: datetime) -> dict[str, Any]:
    """Every count of unpriced calls in ``window`` that obs shows: tile, Costs page, calls page, and the alert rule
    over the same window (it ends at ``at``, the window's end)."""
    tile = queries.run("overview_kpis", db=store, **window)["unpriced_calls"].iloc[0]
    minutes = int((at - window["start"]) / timedelta(minutes=1))
    rule = Rule("unpriced", "unpriced_model", "model", window_minutes=minutes, min_volume=1, id=1)
    conditions = {"status": None, "refusals_only": 0, "feedback": None, "search": None, "unpriced_only": 1,
                  "prompt_version": None}  # fmt: skip
    return {
        "overview tile": int(tile or 0),
        "overview tile (raw)": int(queries.run("overview_kpis_raw", db=store, **window)["unpriced_calls"].iloc[0] or 0),
        **{
            f"costs: {name}": int(queries.run(name, db=store, **window, **extra)["unpriced_calls"].sum())
            for name, extra in [
                ("daily_cost_by_feature", {}), ("daily_cost_by_feature_raw", {}), ("cost_per_call_by_model", {}),
                ("cost_per_call_by_model_raw", {}), ("spend_by_tenant", {}), ("top_users_by_spend", {"limit": 10**6}),
            ]
        },
        "calls page, unpriced only": int(queries.run("calls_count_raw", db=store, **window, **conditions)["calls"][0]),
        "alert unpriced_model": int(sum(f.value for f in engine.find(store, [rule], at)[1])),
    }  # fmt: skip


def rollup_unpriced(store: Store) -> int:
    with store.engine.connect() as connection:
        total = connection.execute(
            sa.select(sa.func.sum(rollup_calls.c.unpriced)).where(rollup_calls.c.grain == "day")
        ).scalar()
    return int(total or 0)


def test_every_count_leaves_failed_calls_without_usage_out(store: Store) -> None:
    store.write_batch(cases())  # PostgreSQL: the writer counts the rollups itself; SQLite: the rollup queries
    for window in (ALL_TIME, WEEK):
        counts = unpriced_counts(store, window, window["end"])
        assert counts == dict.fromkeys(counts, 2), window
    by_model = queries.run("cost_per_call_by_model", db=store, **WEEK).set_index("model")["unpriced_calls"]
    assert by_model.to_dict() == UNPRICED_BY_MODEL
    assert store.stats().unpriced_calls == 2
    assert rollup_unpriced(store) == 2
    with store.engine.begin() as connection:
        rollup.rebuild(connection)
    assert rollup_unpriced(store) == 2
    assert recost(store, Pricer()).unpriced == 2


@pytest.fixture
def demo_store(db_url: str) -> Iterator[tuple[Store, str]]:
    try:
        run_demo(database_url=db_url, days=10, calls=900, live=0, seed=11)
        store = Store(db_url)
        yield store, db_url
        store.close()
    finally:
        obs.configure(None)


def test_on_a_demo_store_tile_costs_page_stats_alert_recost_and_rollups_agree(demo_store: tuple[Store, str]) -> None:
    store, url = demo_store
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT model, status, prompt_tokens FROM llm_calls WHERE cost_usd IS NULL")
        ).all()
    assert any(status == "error" and tokens is None and model != "flowdesk-tuned-1" for model, status, tokens in rows)
    assert any(model == "flowdesk-tuned-1" and status == "ok" for model, status, _ in rows)
    at = datetime.now(UTC)
    week = {"start": at - timedelta(days=7), "end": at}  # the dashboard's and the default alert rule's window
    default_rule = next(r for r in DEFAULT_RULES if r.kind == "unpriced_model")
    assert default_rule.window_minutes == 7 * 24 * 60
    counts = unpriced_counts(store, week, at)
    assert counts == dict.fromkeys(counts, counts["overview tile"]) and counts["overview tile"] > 0
    every = unpriced_counts(store, {"start": ALL_TIME["start"], "end": at}, at)
    expected = store.stats().unpriced_calls
    written = rollup_unpriced(store)
    with store.engine.begin() as connection:
        rollup.rebuild(connection)
    result = CliRunner().invoke(main, ["stats", "--database-url", url])
    assert f"unpriced   {expected:,} calls" in result.output
    assert every == dict.fromkeys(every, expected)
    assert written == rollup_unpriced(store) == expected
    assert recost(store, Pricer()).unpriced == expected
