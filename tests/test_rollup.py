"""The rollups answer every dashboard question as the raw table does: counts and sums exactly, percentiles within
the histograms' stated error, for any window and filter, and they stay exact as calls are added late, get
feedback, are repriced or deleted by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from obs.privacy import retention
from obs.records import Feedback
from obs.store import queries, rollup, windows
from obs.store.schema import rollup_calls, rollup_histograms, rollup_values
from obs.store.store import Store
from tests.factories import make_call, seeded_calls, thumbs_down

NOW = datetime.now(UTC).replace(microsecond=0)
CALLS = seeded_calls(NOW)

#: Percentile columns of each rollup query; every other column must equal the raw table's exactly.
PERCENTILES = {
    "overview_kpis": ["p95_latency_ms"],
    "trends": ["p50", "p95", "p99"],
    "latency_percentiles": ["p50", "p95", "p99"],
    "ttft_by_model": ["ttft_p50", "ttft_p95"],
    "cost_per_call_by_model": ["p95_cost"],
    "daily_cost_by_feature": [],
    "refusal_trend": [],
}
#: Group columns, to line rows up (the rollup's percentiles may order ties differently).
KEYS = {
    "trends": ["bucket"],
    "latency_percentiles": ["feature", "model"],
    "ttft_by_model": ["model"],
    "cost_per_call_by_model": ["model"],
    "daily_cost_by_feature": ["day", "feature"],
    "refusal_trend": ["bucket", "model", "prompt_version"],
}
WINDOWS = {
    "7d, not on the hour": {"start": NOW - timedelta(days=7, minutes=13), "end": NOW - timedelta(minutes=7)},
    "24h": {"start": NOW - timedelta(hours=24), "end": NOW},
    "whole days": {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2100, 1, 1, tzinfo=UTC)},
    "inside one hour": {"start": NOW - timedelta(minutes=50), "end": NOW - timedelta(minutes=10)},
}
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "feature": {"feature": "ticket_triage"},
    "model": {"model": "gpt-4o"},
    "tenant (raw only)": {"tenant_id": "acme"},
    "user (raw only)": {"user_id": "user_3"},
    "with replays": {"include_replays": 1},
}


def assert_same_answer(store: Store, name: str, **params: Any) -> None:
    """The rollup query equals its raw-table reference: exactly, percentiles within rollup.ERROR_BOUND."""
    ours = queries.run(name, db=store, **params)
    exact = queries.run(f"{name}_raw", db=store, **params)
    keys = KEYS.get(name, [])
    if keys:
        ours = ours.sort_values(keys, na_position="first").reset_index(drop=True)
        exact = exact.sort_values(keys, na_position="first").reset_index(drop=True)
    assert list(ours.columns) == list(exact.columns)
    approximate = PERCENTILES[name]
    pd.testing.assert_frame_equal(ours.drop(columns=approximate), exact.drop(columns=approximate),
                                  check_dtype=False, rtol=1e-9)  # fmt: skip
    for column in approximate:
        assert ours[column].isna().tolist() == exact[column].isna().tolist()
        mask = exact[column].notna()
        got, want = ours[column][mask].astype(float), exact[column][mask].astype(float)
        assert np.allclose(got, want, rtol=rollup.ERROR_BOUND, atol=0), (column, params)


def check_all(store: Store) -> None:
    for window in WINDOWS.values():
        for filters in FILTERS.values():
            for name in PERCENTILES:
                extra = {"bucket": "day"} if name in {"trends", "refusal_trend"} else {}
                assert_same_answer(store, name, **window, **filters, **extra)
        assert_same_answer(store, "trends", **window, bucket="hour")
        assert_same_answer(store, "refusal_trend", **window, bucket="hour")


def rollup_rows(store: Store) -> dict[str, list[Any]]:
    """Every rollup row (zero rows left by deletions dropped), sorted, for comparing two states."""
    out = {}
    with store.engine.connect() as connection:
        for table in (rollup_calls, rollup_histograms, rollup_values):
            result = connection.execute(sa.select(table).where(table.c.calls != 0))
            out[table.name] = sorted(tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in result)
    return out


@pytest.fixture
def filled(store: Store) -> Store:
    """The seeded calls written in three batches, the oldest last (as the spool replays them), plus replays."""
    newest_first = sorted(CALLS, key=lambda c: c.ts, reverse=True)
    for part in (newest_first[:150], newest_first[150:300], newest_first[300:]):
        store.write_batch(part)
    replays = [make_call(c.ts, call_id=f"replay_{c.id}", source="replay", replay_of=c.id) for c in CALLS[:20]]
    store.write_batch(replays, feedback_=thumbs_down(CALLS))
    return store


def test_rollup_queries_equal_the_raw_table_for_every_window_and_filter(filled: Store) -> None:
    check_all(filled)


def test_a_written_again_call_is_not_counted_twice(filled: Store) -> None:
    before = rollup_rows(filled)
    filled.write_batch(CALLS[:50])  # a retry: every id is already stored
    assert rollup_rows(filled) == before


def test_a_batch_with_some_calls_already_stored_counts_only_the_new_ones(store: Store) -> None:
    store.write_batch(CALLS[:100])
    result = store.write_batch(CALLS[50:200])  # written as all-new first, rolled back and written again
    assert (result.calls, result.skipped) == (100, 50)
    kept = rollup_rows(store)
    with store.engine.begin() as connection:
        rollup.rebuild(connection)
    assert rollup_rows(store) == kept
    assert sum(row[6] for row in kept["rollup_calls"] if row[0] == "day") == 200  # calls, daily rows


def test_the_writers_own_counts_equal_what_the_rollup_queries_add(postgres_url: str) -> None:
    """On PostgreSQL the writer counts a batch's rollups itself (rollup.Deltas): with costs finer than the
    column keeps, feature and prompt version unset, a streamed call without a latency, feedback."""
    store = Store(postgres_url)
    odd = [
        make_call(NOW - timedelta(hours=2), call_id="fine", cost_usd=Decimal("0.000123456789549")),
        make_call(NOW - timedelta(hours=2), call_id="finer", cost_usd=Decimal("0.00000000005")),
        make_call(NOW - timedelta(hours=3), call_id="bare", feature=None, prompt_version=None, cost_usd=None),
        make_call(NOW - timedelta(days=1), call_id="stream", stream=True, latency_ms=None, latency_ms_first_token=40),
        make_call(NOW - timedelta(days=1), call_id="down", user_feedback="thumbs_down", latency_ms=0),
    ]
    merged: list[int] = []
    real_merge = rollup.merge

    def counting_merge(connection: sa.Connection, deltas: rollup.Deltas) -> None:
        merged.append(len(deltas.calls))
        real_merge(connection, deltas)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rollup, "merge", counting_merge)
        for part in (CALLS[:200], CALLS[200:], odd):
            store.write_batch(part)
    assert len(merged) == 3 and all(merged)
    kept = rollup_rows(store)
    with store.engine.begin() as connection:
        rollup.rebuild(connection)
    assert rollup_rows(store) == kept
    store.close()


def test_sqlite_writes_and_rollup_reads_call_no_python_function(sqlite_url: str) -> None:
    """SQLAlchemy registers Python floor() and regexp() on SQLite connections: a query using them calls into
    Python once per row, which waits for the GIL whenever the app runs Python (the writer fell ~200x behind)."""
    store = Store(sqlite_url)
    used: list[str] = []

    @sa.event.listens_for(store.engine, "connect")
    def trap(dbapi_connection: Any, _record: Any) -> None:
        for name, args in (("floor", 1), ("regexp", 2)):
            dbapi_connection.create_function(name, args, lambda *_, _name=name: used.append(_name))

    store.engine.dispose()  # new connections, with the trap
    store.write_batch(CALLS)
    store.write_batch([*CALLS[:10], make_call(NOW, call_id="one_more")])
    for name in PERCENTILES:
        queries.run(name, db=store, **WINDOWS["7d, not on the hour"], bucket="day")
    assert used == []
    assert queries.run("latency_percentiles", db=store, **WINDOWS["whole days"])["p50"].notna().all()


def test_rollups_follow_feedback_recost_and_retention(filled: Store) -> None:
    later = [Feedback(id=f"late_{c.id}", ts=NOW, call_id=c.id, value="thumbs_down") for c in CALLS[100:140]]
    later += [Feedback(id=f"up_{c.id}", ts=NOW, call_id=c.id, value="thumbs_up") for c in CALLS[:30]]
    filled.write_batch(feedback_=later)
    filled.set_costs({c.id: Decimal("0.5") for c in CALLS[200:230]} | {c.id: None for c in CALLS[230:240]})
    report = retention.apply(filled, retention.RetentionPolicy(content_days=1, delete_days=3, keep_days=4), NOW)
    assert report.deleted_calls > 0
    check_all(filled)


def test_rebuild_gives_the_rollups_the_writer_kept(filled: Store) -> None:
    filled.set_costs({c.id: Decimal("0.25") for c in CALLS[:40]})
    kept = rollup_rows(filled)
    with filled.engine.begin() as connection:
        assert rollup.rebuild(connection) == len(CALLS) + 20
    assert rollup_rows(filled) == kept


def test_filter_values_are_those_of_the_days_the_window_touches(filled: Store) -> None:
    window = WINDOWS["7d, not on the hour"]
    days = windows.spans(window)
    ours = queries.run("filter_values", db=filled, **window)
    exact = queries.run("filter_values_raw", db=filled, start=days["values_start"], end=days["values_end"])
    pd.testing.assert_frame_equal(ours, exact, check_dtype=False)


def test_the_call_count_stops_past_the_cap(store: Store) -> None:
    from obs import config

    calls = [make_call(NOW - timedelta(seconds=i), call_id=f"c{i:06d}") for i in range(config.CALLS_COUNT_CAP + 5)]
    store.write_batch(calls)
    conditions = {"status": None, "refusals_only": 0, "feedback": None, "search": None, "unpriced_only": 0,
                  "prompt_version": None}  # fmt: skip
    window = {"start": NOW - timedelta(days=1), "end": NOW + timedelta(seconds=1)}
    assert queries.run("calls_count", db=store, **window, **conditions).iloc[0]["calls"] == config.CALLS_COUNT_CAP + 1
    exact = queries.run("calls_count_raw", db=store, **window, **conditions).iloc[0]["calls"]
    assert exact == config.CALLS_COUNT_CAP + 5


def test_spans_read_whole_days_whole_hours_and_raw_edges() -> None:
    start = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    end = datetime(2026, 3, 4, 1, 15, tzinfo=UTC)
    got = windows.spans({"start": start, "end": end})
    assert (got["hour_start"], got["hour_end"]) == (start.replace(hour=23, minute=0), end.replace(minute=0))
    assert (got["day_start"], got["day_end"]) == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    hourly = windows.spans({"start": start, "end": end, "bucket": "hour"})
    assert hourly["day_start"] == hourly["day_end"]
    raw = windows.spans({"start": start, "end": end, "tenant_id": "acme"})
    assert raw["hour_start"] == raw["hour_end"] == start
