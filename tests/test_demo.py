"""`obs demo`: a store full of realistic traffic through the real SDK, with the planted regressions in it.

Every test runs on demo stores made at several "now"s (the clock faked with time-machine: weekdays and weekends,
office hours and nights, month ends) besides today's, because the planted regressions must show whenever a user
runs `make demo`. Queries compare with that "now" (bound as :now), never with the database's own clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from click.testing import CliRunner

import obs
from obs.cli.main import main
from obs.demo import app as demo_app
from obs.demo.run import DemoSummary, run_demo
from obs.store.schema import sqlite_text
from obs.store.store import Store

#: The faked "now"s (UTC): a Sunday night, a month's last minutes on a Monday, a Saturday night at a month's end,
#: a Wednesday noon at February's end; None is the real clock.
NOWS = [None, "2026-11-29T03:00", "2026-11-30T23:50", "2026-10-31T23:30", "2027-02-24T12:00"]
PLANTED = [
    ("Latency p95 up against last week", "feature=help_answer|model=gpt-4.1"),
    ("Refusal rate jump for a model and prompt version",
     "feature=help_answer|model=claude-haiku-4-5|prompt_version=v3"),
    ("User spending far above the others", "user_id=acme-user-03"),
    ("Unhappy user: thumbs-down in a row", "user_id=globex-user-07"),
    ("Calls of a model that cannot be priced", "model=flowdesk-tuned-1"),
]  # fmt: skip


@dataclass(frozen=True)
class Demo:
    summary: DemoSummary
    store: Store
    now: datetime  # when the demo ran (faked or real)


def make_demo(folder: Path, at: str | None, **sizes: int) -> Demo:
    url = f"sqlite:///{folder / 'obs.db'}"
    if at is None:
        now, summary = datetime.now(UTC), run_demo(database_url=url, live_speed=0.02, seed=11, **sizes)
    else:
        now = datetime.fromisoformat(at).replace(tzinfo=UTC)
        with time_machine.travel(now, tick=True):
            summary = run_demo(database_url=url, live_speed=0.02, seed=11, **sizes)
    obs.configure(None)
    return Demo(summary, Store(url), now + timedelta(minutes=1))  # the live questions took a few seconds


@pytest.fixture(scope="module", params=NOWS, ids=lambda at: at or "today")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    made = make_demo(tmp_path_factory.mktemp("demo"), request.param, calls=2500, live=6)
    yield made
    made.store.close()


def one(demo: Demo, sql: str) -> object:
    """One value; ``:now`` is the moment the demo ran."""
    with demo.store.engine.connect() as connection:
        return connection.execute(sa.text(sql), {"now": sqlite_text(demo.now)}).scalar_one()


def test_the_store_holds_a_month_of_varied_traffic(demo: Demo) -> None:
    summary = demo.summary
    assert summary.calls_made >= 2500 and summary.store.calls == summary.calls_made
    assert one(demo, "SELECT julianday(MAX(ts)) - julianday(MIN(ts)) FROM llm_calls") >= 29  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(DISTINCT feature) FROM llm_calls") >= 3  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(DISTINCT user_id) FROM llm_calls") >= 20  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(DISTINCT tenant_id) FROM llm_calls") >= 2  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(*) FROM llm_calls WHERE status = 'error'") > 0  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(*) FROM llm_calls WHERE is_refusal") > 0  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(*) FROM llm_calls WHERE stream") > 0  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(*) FROM feedback") > 0  # type: ignore[operator]
    assert one(demo, "SELECT COUNT(*) FROM llm_calls WHERE ts > datetime(:now, '-1 hour')") >= 6  # type: ignore[operator]


def test_traces_chain_rewrite_retrieval_and_answer(demo: Demo) -> None:
    trace_id = one(demo, "SELECT trace_id FROM spans WHERE kind = 'retrieval' LIMIT 1")
    trace = demo.store.get_trace(str(trace_id))
    assert trace is not None and [c.feature for c in trace.calls] == ["query_rewrite", "help_answer"]
    rewrite, answer = trace.calls
    assert answer.parent_id == rewrite.id
    retrieval = next(s for s in trace.spans if s.kind == "retrieval")
    assert retrieval.output and {"doc", "text"} <= set(retrieval.output[0])


def test_the_help_desk_chat_resends_its_history_within_a_session(demo: Demo) -> None:
    """A session's later answers were asked with the earlier questions and answers (at most HISTORY_TURNS)."""
    session = one(
        demo,
        "SELECT session_id FROM llm_calls WHERE feature = 'help_answer' AND status = 'ok' AND user_id IS NOT NULL"
        " GROUP BY session_id HAVING COUNT(*) >= 4 ORDER BY session_id LIMIT 1",
    )
    with demo.store.engine.connect() as connection:
        ids = connection.execute(
            sa.text("SELECT id FROM llm_calls WHERE session_id = :s AND feature = 'help_answer' AND status = 'ok'"
                    " ORDER BY ts"), {"s": session}
        ).scalars()  # fmt: skip
        answers = [call for call in map(demo.store.get_call, ids) if call is not None and call.content]
    first, second = answers[0], answers[1]
    asked = [m["content"] for m in second.content.messages if m["role"] in {"user", "assistant"}]
    earlier = [m["content"] for m in first.content.messages if m["role"] == "user"][-1]
    assert asked[:2] == [earlier, first.content.output_text]  # the first turn, resent
    longest = max(len([m for m in a.content.messages if m["role"] != "system"]) for a in answers)
    assert longest == 2 * demo_app.HISTORY_TURNS + 1  # the history is capped, the question comes last


def test_every_call_is_priced_unless_its_model_has_no_price(demo: Demo) -> None:
    unpriced = one(
        demo,
        "SELECT COUNT(*) FROM llm_calls WHERE cost_usd IS NULL AND status = 'ok' AND model != 'flowdesk-tuned-1'",
    )
    assert unpriced == 0
    assert one(demo, "SELECT COUNT(*) FROM llm_calls WHERE model = 'flowdesk-tuned-1' AND cost_usd IS NOT NULL") == 0


def test_planted_refusal_regression_on_one_model(demo: Demo) -> None:
    def rate(where: str) -> float:
        sql = f"SELECT AVG(is_refusal) FROM llm_calls WHERE feature = 'help_answer' AND {where}"
        return float(one(demo, sql))  # type: ignore[arg-type]

    claude_v3 = rate("model = 'claude-haiku-4-5' AND prompt_version = 'v3'")
    claude_before = rate("model = 'claude-haiku-4-5' AND prompt_version IN ('v1', 'v2')")
    gpt_v3 = rate("model = 'gpt-4.1' AND prompt_version = 'v3'")
    assert claude_v3 > 2 * claude_before and claude_v3 > 2 * gpt_v3


def test_planted_latency_regression_on_one_feature_and_model(demo: Demo) -> None:
    def latency(model: str, recent: bool) -> float:
        # The week before the change against the days since (the provider's slow spell lies further back).
        when = (
            "> datetime(:now, '-6 days')"
            if recent
            else "BETWEEN datetime(:now, '-11 days') AND datetime(:now, '-7 days')"
        )
        sql = (
            "SELECT AVG(latency_ms) FROM llm_calls WHERE feature = 'help_answer' AND status = 'ok' "
            f"AND model = '{model}' AND ts {when}"
        )
        return float(one(demo, sql))  # type: ignore[arg-type]

    assert latency("gpt-4.1", recent=True) > 1.25 * latency("gpt-4.1", recent=False)
    assert latency("claude-haiku-4-5", recent=True) < 1.15 * latency("claude-haiku-4-5", recent=False)


def test_a_big_spender_and_an_unhappy_user(demo: Demo) -> None:
    with demo.store.engine.connect() as connection:
        spend = connection.execute(
            sa.text("SELECT user_id, SUM(cost_usd) FROM llm_calls GROUP BY user_id ORDER BY 2 DESC LIMIT 2")
        ).all()
        streak = connection.execute(
            sa.text(
                "SELECT f.value FROM feedback f JOIN llm_calls c ON c.id = f.call_id "
                "WHERE c.user_id = 'globex-user-07' AND f.ts > datetime(:now, '-3 days') ORDER BY f.ts"
            ), {"now": sqlite_text(demo.now)}
        ).scalars().all()  # fmt: skip
    assert spend[0][0] == "acme-user-03" and spend[0][1] > 3 * spend[1][1]
    assert len(streak) >= 5 and set(streak) == {"thumbs_down"}


def test_the_eval_sampler_finds_the_demos_bad_calls(demo: Demo) -> None:
    from obs.evals import Evals, Settings

    store, now = demo.store, demo.now
    result = Evals(store).sample(Settings(start=now - timedelta(days=7), end=now, per_rule=50, seed=1))
    assert all(result.taken[rule] > 0 for rule in ("thumbs_down", "error", "refusal", "slow")), result.taken
    assert len(Evals(store).queue()) == len(result.picks)


def test_obs_demo_command_adds_data_and_reset_starts_clean(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    args = ["demo", "--database-url", url, "--calls", "40", "--live", "0", "--days", "7"]
    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0 and "Store: sqlite:///" in first.output
    obs.configure(None)
    calls_once = Store(url).stats().calls
    CliRunner().invoke(main, args, catch_exceptions=False)
    obs.configure(None)
    assert Store(url).stats().calls > calls_once
    CliRunner().invoke(main, [*args, "--reset"], catch_exceptions=False)
    obs.configure(None)
    assert Store(url).stats().calls < 2 * calls_once
    assert "The store now holds" in first.output


def firing(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as connection:
        fired = connection.execute(
            sa.text(
                "SELECT r.name, e.subject_key FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id "
                "WHERE e.status = 'firing' ORDER BY r.id"
            )
        ).all()
    return [(str(name), str(key)) for name, key in fired]


def test_default_alert_rules_fire_exactly_for_the_planted_problems(demo: Demo) -> None:
    assert firing(demo.store) == PLANTED
    assert len(demo.summary.alerts) == 5


@pytest.mark.parametrize("at", ["2026-11-29T03:00", "2026-11-30T23:50"])
def test_the_default_size_demo_plants_the_same_alerts(tmp_path: Path, at: str) -> None:
    made = make_demo(tmp_path, at)  # `obs demo`'s defaults: 3,000 calls and 30 live questions
    try:
        assert made.summary.live_questions == 30 and firing(made.store) == PLANTED
    finally:
        made.store.close()
