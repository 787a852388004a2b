"""Retention: the dry run reports exactly what apply then changes, in batches; kept calls survive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from obs.privacy import retention
from obs.privacy.retention import RetentionPolicy
from obs.records import Feedback
from obs.store.schema import eval_cases, llm_call_content, llm_calls, spans
from obs.store.store import Store
from tests.factories import make_call, make_span

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(content_days=10, delete_days=60, keep_days=90)


def seed(store: Store) -> None:
    """One call per day of age 0..119; feedback on ages divisible by 7, an eval case on ages divisible by 11."""
    calls = [make_call(NOW - timedelta(days=age, hours=1), call_id=f"c{age:03d}", trace_id=f"t{age:03d}")
             for age in range(120)]  # fmt: skip
    feedback = [Feedback(id=f"f{age}", ts=NOW, value="thumbs_up", call_id=f"c{age:03d}") for age in range(0, 120, 7)]
    trace_spans = [make_span(f"t{age:03d}", NOW - timedelta(days=age, hours=1)) for age in range(120)]
    store.write_batch(calls, trace_spans, feedback)
    with store.engine.begin() as connection:
        for age in range(0, 120, 11):
            connection.execute(eval_cases.insert().values(dataset="default", call_id=f"c{age:03d}",
                                                          created_at=NOW, updated_at=NOW))  # fmt: skip


def expected(age: int) -> str:
    """What retention should leave of the call of this age: 'full', 'expired' or 'deleted'."""
    kept = (age % 7 == 0 or age % 11 == 0) and age < 90
    if kept:
        return "full"
    if age >= 60:
        return "deleted"
    return "expired" if age >= 10 else "full"


def state(store: Store) -> dict[str, tuple[str, bool]]:
    with store.engine.connect() as connection:
        with_content = {r[0] for r in connection.execute(sa.select(llm_call_content.c.call_id))}
        return {r.id: (r.content_state, r.id in with_content)
                for r in connection.execute(sa.select(llm_calls.c.id, llm_calls.c.content_state))}  # fmt: skip


def test_dry_run_reports_exactly_what_apply_changes_and_kept_calls_survive(store: Store) -> None:
    seed(store)
    before = state(store)
    dry = retention.plan(store, POLICY, NOW)
    assert state(store) == before  # a dry run changes nothing
    progress: list[tuple[str, int, int]] = []
    done = retention.apply(store, POLICY, NOW, batch=7, progress=lambda *p: progress.append(p))
    after = state(store)
    outcome = {f"c{age:03d}": expected(age) for age in range(120)}
    deleted = {i for i, e in outcome.items() if e == "deleted"}
    expired = {i for i, e in outcome.items() if e == "expired"}
    assert set(before) - set(after) == deleted
    assert {i for i, (s, has) in after.items() if s == "expired" and not has} == expired
    assert all(after[i] == ("full", True) for i, e in outcome.items() if e == "full")
    assert (dry.deleted_calls, dry.expired_content) == (done.deleted_calls, done.expired_content)
    assert (done.deleted_calls, done.expired_content) == (len(deleted), len(expired))
    assert dry.deleted_spans == done.deleted_spans > 0
    assert dry.kept_calls == done.kept_calls == sum(1 for a in range(10, 90) if a % 7 == 0 or a % 11 == 0)
    # Batched: several batches of at most 7, progress after each.
    calls_progress = [p for p in progress if p[0] == "calls deleted"]
    assert len(calls_progress) >= len(deleted) // 7 and calls_progress[-1][1] == len(deleted)
    with store.engine.connect() as connection:
        left_spans = connection.execute(sa.select(sa.func.count()).select_from(spans)).scalar_one()
    assert left_spans == 120 - done.deleted_spans


def test_apply_twice_changes_nothing_the_second_time(store: Store) -> None:
    seed(store)
    retention.apply(store, POLICY, NOW)
    again = retention.apply(store, POLICY, NOW)
    assert (again.deleted_calls, again.expired_content, again.deleted_spans) == (0, 0, 0)


def test_retention_periods_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_RETENTION_CONTENT_DAYS", "7")
    monkeypatch.setenv("OBS_RETENTION_DELETE_DAYS", "90")
    assert RetentionPolicy.from_env() == RetentionPolicy(content_days=7, delete_days=90, keep_days=730)
    monkeypatch.setenv("OBS_RETENTION_KEEP_DAYS", "two years")
    with pytest.raises(ValueError, match="OBS_RETENTION_KEEP_DAYS='two years' is not a whole number"):
        RetentionPolicy.from_env()
