"""Every query in sql/ runs on both dialects over one seeded dataset and gives the same numbers."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from obs.alerts import engine, notify
from obs.evals import Evals, Settings
from obs.store import queries, rollup, sql
from obs.store.schema import replay_run_items, replay_runs
from obs.store.store import Store
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, reset_postgres
from tests.factories import make_call, make_span, seeded_calls, thumbs_down

NOW = datetime.now(UTC).replace(microsecond=0)
CALLS = [replace(c, session_id=f"s-{i % 7}") for i, c in enumerate(seeded_calls(NOW))]  # conversations too
FEEDBACK = thumbs_down(CALLS)
SPANS = [make_span(c.trace_id, c.ts) for c in CALLS[::10]]

#: Parameters for every query in sql/; a new query must add its own here (the meta-test checks).
PARAMS: dict[str, dict[str, Any]] = {
    "daily_cost_by_feature": {"start": NOW - timedelta(days=30), "end": NOW},
    "top_users_by_spend": {"start": NOW - timedelta(days=7), "end": NOW, "limit": 20},
    "cost_per_call_by_model": {"start": NOW - timedelta(days=7), "end": NOW},
    "latency_percentiles": {"start": NOW - timedelta(hours=24), "end": NOW},
    "eval_candidates": {
        "start": NOW - timedelta(days=7), "end": NOW, "slow_ms": 5000, "expensive_usd": 0.10, "limit": 1000,
    },
    "store_stats": {},
    "overview_kpis": {"start": NOW - timedelta(days=7), "end": NOW},
    "trends": {"start": NOW - timedelta(days=7), "end": NOW, "bucket": "day"},
    "refusal_trend": {"start": NOW - timedelta(days=7), "end": NOW, "bucket": "day"},
    "spend_by_tenant": {"start": NOW - timedelta(days=7), "end": NOW},
    "ttft_by_model": {"start": NOW - timedelta(days=7), "end": NOW},
    "slowest_calls": {"start": NOW - timedelta(days=7), "end": NOW, "limit": 20},
    "calls_page": {"start": NOW - timedelta(days=7), "end": NOW, "status": None, "refusals_only": 0,
                   "feedback": None, "search": None, "limit": 50, "offset": 10, "unpriced_only": 0,
                   "prompt_version": None},
    "calls_count": {"start": NOW - timedelta(days=7), "end": NOW, "status": None, "refusals_only": 0,
                    "feedback": None, "search": "%answer%", "unpriced_only": 0, "prompt_version": None},
    "filter_values": {"start": NOW - timedelta(days=7), "end": NOW},
    "sessions": {"start": NOW - timedelta(days=7), "end": NOW, "limit": 100, "include_replays": 0},
    "session_calls": {"session": "s-1"},
    "storage_by_table": {},
    "store_size": {},
    "replay_selection": {"dataset": None, "feature": "ticket_triage", "model": None, "start": NOW - timedelta(days=7),
                         "end": NOW, "limit": 50},
    "replays_of_call": {"call_id": "call_00000"},
    "replay_runs": {"limit": 20},
    "replay_run_items": {"run_id": "run_1"},
    "recost_calls": {"since": NOW - timedelta(days=2), "after_ts": NOW - timedelta(days=2), "after_id": "",
                     "limit": 10_000},
    "alert_call_stats": {"start": NOW - timedelta(days=7), "end": NOW},
    "alert_latency": {"start": NOW - timedelta(days=7), "end": NOW, "by_model": 1},
    "alert_spend": {"start": NOW - timedelta(days=7), "end": NOW},
    "alert_feedback": {"start": NOW - timedelta(days=7), "end": NOW},
    "alerts_firing": {},
    "alert_history": {"start": NOW - timedelta(days=7), "end": NOW + timedelta(minutes=1)},
    "alert_rules": {},
    "alert_outbox": {},
    "feature_latency_p95": {"start": NOW - timedelta(days=7), "end": NOW},
    "eval_sample_pool": {"start": NOW - timedelta(days=7), "end": NOW, "feature": None, "model": None,
                         "prompt_version": None, "tenant_id": None, "text": "%answer%", "thumbs_down": 1, "errors": 1,
                         "refusals": 1, "slow_floor_ms": 5000, "expensive_usd": 0.10},
    "eval_queue": {"limit": 100},
    "eval_progress": {},
    "eval_datasets": {},
    "redaction_calls": {"start": NOW - timedelta(days=7), "end": NOW, "limit": 50},
    "retention_plan": {"content_before": NOW - timedelta(days=2), "delete_before": NOW - timedelta(days=5),
                       "keep_before": NOW - timedelta(days=4)},
    "retention_delete_batch": {"delete_before": NOW - timedelta(days=5), "keep_before": NOW - timedelta(days=4),
                               "limit": 1000},
    "retention_expire_batch": {"content_before": NOW - timedelta(days=2), "delete_before": NOW - timedelta(days=5),
                               "keep_before": NOW - timedelta(days=4), "limit": 1000},
    "retention_spans_batch": {"delete_before": NOW - timedelta(days=5), "keep_before": NOW - timedelta(days=4),
                              "limit": 1000},
}  # fmt: skip
#: The raw-table references of the rollup queries ask the same question with the same parameters.
PARAMS.update({f"{name}_raw": PARAMS[name] for name in (
    "overview_kpis", "trends", "daily_cost_by_feature", "refusal_trend", "filter_values", "latency_percentiles",
    "ttft_by_model", "calls_count", "cost_per_call_by_model")})  # fmt: skip
#: Adding the first call with sign 0 runs the writer's rollup statements without changing the rollups.
PARAMS.update({name: {"ids": '["call_00000"]', "sign": 0} for name in rollup.ADD_QUERIES})
PARAMS["early_feedback"] = {"ids": '["call_00000"]'}
#: The writer's statements: they return no rows.
WRITES = {*rollup.ADD_QUERIES, *rollup.MERGE_QUERIES}
#: The writer's own counts, all zero: the statements run and the rollups' sums stay as they were.
_DIMS = {"ts": NOW.replace(minute=0, second=0, microsecond=0), "feature": "", "model": "gpt-4o", "source": "sdk"}
_ZERO = dict.fromkeys(rollup.CALL_COUNTERS, 0)
PARAMS["rollup_merge_calls"] = {"grain": "hour", **_DIMS, "prompt_version": "", **_ZERO}
PARAMS["rollup_merge_histograms"] = {"grain": "hour", **_DIMS, "metric": "latency", "bucket": 3, "calls": 0}
PARAMS["rollup_merge_values"] = {"ts": _DIMS["ts"], "kind": "model", "value": "gpt-4o", "calls": 0}

#: Columns that differ by nature between runs or engines (random order, physical size).
UNORDERED = {"eval_candidates"}
ENGINE_SPECIFIC = {"store_size", "storage_by_table"}


#: Two replays of the first call and a replay run over them, outside every window the other queries look at.
REPLAYED = NOW - timedelta(days=60)
REPLAYS = [
    make_call(REPLAYED + timedelta(minutes=i), call_id=f"replay_{i}", source="replay", replay_of=CALLS[0].id,
              text=f"Replayed {i}", cost_usd=Decimal("0.001"), is_refusal=i == 1)
    for i in range(2)
]  # fmt: skip


#: The run's items: (original, replay, answer changed, error).
RUN_ITEMS = [
    (CALLS[0].id, "replay_0", True, None),
    (CALLS[0].id, "replay_1", False, None),
    (CALLS[1].id, None, None, "RateLimitError (429): slow down"),
]


def _seed(url: str) -> Store:
    store = Store(url)
    store.write_batch([*CALLS, *REPLAYS], SPANS, FEEDBACK)
    run = {"id": "run_1", "name": "friendly", "created_at": REPLAYED, "finished_at": REPLAYED, "provider": "demo",
           "calls": len(RUN_ITEMS), "summary": {"calls": len(RUN_ITEMS)}}  # fmt: skip
    items = [
        {
            "run_id": "run_1",
            "position": i,
            "call_id": call_id,
            "replay_id": replay_id,
            "changed": changed,
            "error": error,
        }
        for i, (call_id, replay_id, changed, error) in enumerate(RUN_ITEMS)
    ]
    with store.engine.begin() as connection:
        connection.execute(replay_runs.insert().values(**run))
        connection.execute(replay_run_items.insert(), items)
    # Alert events for the alert queries to read, and a webhook nobody listens on: its notifications stay queued.
    engine.check(store, NOW, webhooks=[notify.Webhook.parse("http://127.0.0.1:9/hook")], attempts=1)
    # A few eval cases (the same on both dialects): a sample, three accepted into a dataset, one rejected.
    evals = Evals(store)
    evals.sample(Settings(start=NOW - timedelta(days=7), end=NOW, per_rule=5, seed=1), now=NOW)
    waiting = [int(i) for i in evals.queue()["id"]]
    for case_id in waiting[:3]:
        evals.accept(case_id, dataset="smoke", reviewer="ann", expected_output="ok", now=NOW)
    evals.reject(waiting[3], reviewer="bob", reason="duplicate", now=NOW)
    return store


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = _seed(f"sqlite:///{tmp_path_factory.mktemp('q') / 'obs.db'}")
    yield store
    store.close()


@pytest.fixture(scope="module")
def postgresql_seeded() -> Iterator[Store]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    reset_postgres(POSTGRES_URL)
    store = _seed(POSTGRES_URL)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_seeded")  # type: ignore[no-any-return]


def _normalized(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order with JSON columns as text, so frames from both engines compare."""
    frame = frame.drop(columns=[c for c in ("prompt", "response") if c in frame.columns])
    if "is_refusal" in frame.columns:
        frame["is_refusal"] = frame["is_refusal"].astype(bool)
    json_columns = {"link", "subject"} if name in {"alerts_firing", "alert_history"} else set()
    for column in json_columns & set(frame.columns):  # JSON: text on SQLite, decoded by psycopg
        frame[column] = [json.dumps(json.loads(v) if isinstance(v, str) else v, sort_keys=True) for v in frame[column]]
    return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)


def test_every_query_in_sql_has_parameters_in_this_test() -> None:
    assert sorted(PARAMS) == sql.names()


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_query_runs_on_each_dialect(seeded: Store, name: str) -> None:
    if name in WRITES:  # returns no rows
        with seeded.engine.begin() as connection:
            assert sql.execute(connection, name, **PARAMS[name]).rowcount > 0
        return
    frame = queries.run(name, db=seeded, **PARAMS[name])
    assert len(frame) > 0


@pytest.mark.parametrize("name", sorted(set(PARAMS) - ENGINE_SPECIFIC - WRITES))
def test_both_dialects_give_the_same_numbers(sqlite_seeded: Store, postgresql_seeded: Store, name: str) -> None:
    lite = _normalized(name, queries.run(name, db=sqlite_seeded, **PARAMS[name]))
    pg = _normalized(name, queries.run(name, db=postgresql_seeded, **PARAMS[name]))
    assert list(lite.columns) == list(pg.columns)
    pd.testing.assert_frame_equal(lite, pg, check_dtype=False, rtol=1e-9)


def _in_window(start: datetime, end: datetime) -> list[Any]:
    return [c for c in CALLS if start <= c.ts < end]


@pytest.mark.parametrize(
    ("name", "rel"), [("latency_percentiles_raw", 1e-12), ("latency_percentiles", rollup.ERROR_BOUND)]
)
def test_latency_percentiles_match_numpy_linear_interpolation(seeded: Store, name: str, rel: float) -> None:
    params = PARAMS["latency_percentiles"]
    frame = queries.run(name, db=seeded, **params)
    window = _in_window(params["start"], params["end"])
    for row in frame.itertuples():
        values = [c.latency_ms for c in window if (c.feature, c.model) == (_nan_none(row.feature), row.model)]
        present = [v for v in values if v is not None]
        assert row.calls == len(values)
        expected = np.percentile(present, [50, 95, 99]) if present else [None] * 3
        assert [row.p50, row.p95, row.p99] == pytest.approx(list(expected), rel=rel)


@pytest.mark.parametrize(
    ("name", "rel"), [("cost_per_call_by_model_raw", 1e-9), ("cost_per_call_by_model", rollup.ERROR_BOUND)]
)
def test_cost_p95_leaves_unpriced_calls_out(seeded: Store, name: str, rel: float) -> None:
    params = PARAMS["cost_per_call_by_model"]
    frame = queries.run(name, db=seeded, **params).set_index("model")
    window = _in_window(params["start"], params["end"])
    for model, row in frame.iterrows():
        priced = [float(c.cost_usd) for c in window if c.model == model and c.cost_usd is not None]
        assert row["unpriced_calls"] == sum(1 for c in window if c.model == model) - len(priced)
        assert row["avg_cost"] == pytest.approx(statistics.fmean(priced), rel=1e-9)
        assert row["p95_cost"] == pytest.approx(float(np.percentile(priced, 95)), rel=rel)


def test_daily_cost_buckets_are_utc_days(seeded: Store) -> None:
    frame = queries.run("daily_cost_by_feature", db=seeded, **PARAMS["daily_cost_by_feature"])
    assert str(frame["day"].dt.tz) == "UTC"
    assert (frame["day"] == frame["day"].dt.normalize()).all()
    assert frame["calls"].sum() == len(CALLS)
    assert frame["unpriced_calls"].sum() == sum(c.cost_usd is None for c in CALLS)


def test_top_users_never_count_unpriced_calls_as_free(seeded: Store) -> None:
    frame = queries.run("top_users_by_spend", db=seeded, **PARAMS["top_users_by_spend"])
    spends = frame["spend"].dropna().tolist()
    assert spends == sorted(spends, reverse=True)
    assert frame["calls"].sum() == len(_in_window(NOW - timedelta(days=7), NOW))


def test_eval_candidates_are_exactly_the_interesting_calls(seeded: Store) -> None:
    params = PARAMS["eval_candidates"]
    frame = queries.run("eval_candidates", db=seeded, **params)
    disliked = {f.call_id for f in FEEDBACK}
    expected = {
        c.id
        for c in _in_window(params["start"], params["end"])
        if c.id in disliked
        or (c.latency_ms or 0) > 5000
        or (c.cost_usd is not None and c.cost_usd > 0.10)
        or c.is_refusal
    }
    assert set(frame["id"]) == expected
    assert len(expected) > 20


def _nan_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


# The seed guide's own SQL, verbatim, must keep working against obs's store on PostgreSQL.
SEED_DAILY_COST = """SELECT date_trunc('day', ts) AS day,
feature,
SUM(cost_usd) AS cost,
COUNT(*) AS calls
FROM llm_calls
WHERE ts > now() - interval '30 days'
GROUP BY 1, 2 ORDER BY 1 DESC;"""
SEED_TOP_USERS = """SELECT user_id, SUM(cost_usd) AS spend, COUNT(*) AS calls
FROM llm_calls
WHERE ts > now() - interval '7 days'
GROUP BY user_id
ORDER BY spend DESC
LIMIT 20;"""
SEED_COST_BY_MODEL = """SELECT model,
AVG(cost_usd) AS avg_cost,
PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY cost_usd) AS p95_cost
FROM llm_calls
WHERE ts > now() - interval '7 days'
GROUP BY model;"""
SEED_LATENCY = """SELECT feature, model,
PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
FROM llm_calls
WHERE ts > now() - interval '24 hours'
GROUP BY feature, model
ORDER BY p95 DESC;"""
SEED_SAMPLE_TO_EVAL = """SELECT id, prompt, response
FROM llm_calls_full
WHERE ts > now() - interval '7 days'
AND (
user_feedback = 'thumbs_down' -- user said it was bad
OR latency_ms > 5000 -- slow
OR cost_usd > 0.10 -- expensive
OR response::text ILIKE '%i don''t know%' -- refused
)
ORDER BY random() LIMIT 50;"""

SEED_QUERIES: list[tuple[str, str, Callable[[pd.DataFrame], pd.DataFrame]]] = [
    (SEED_DAILY_COST, "daily_cost_by_feature", lambda f: f.drop(columns=["unpriced_calls"])),
    (SEED_TOP_USERS, "top_users_by_spend", lambda f: f.drop(columns=["unpriced_calls"])),
    (SEED_COST_BY_MODEL, "cost_per_call_by_model_raw", lambda f: f.drop(columns=["calls", "unpriced_calls"])),
    (SEED_LATENCY, "latency_percentiles_raw", lambda f: f.drop(columns=["calls"])),
]


@pytest.mark.parametrize(("seed_sql", "name", "narrow"), SEED_QUERIES, ids=[q[1] for q in SEED_QUERIES])
def test_seed_dashboard_queries_run_verbatim_and_agree_with_sql_dir(
    postgresql_seeded: Store, seed_sql: str, name: str, narrow: Callable[[pd.DataFrame], pd.DataFrame]
) -> None:
    with postgresql_seeded.engine.connect() as connection:
        result = connection.execute(sa.text(seed_sql))
        verbatim = queries.tidy(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
    ours = narrow(queries.run(name, db=postgresql_seeded, **PARAMS[name]))
    assert len(verbatim) > 0
    pd.testing.assert_frame_equal(_normalized(name, verbatim), _normalized(name, ours), check_dtype=False, rtol=1e-9)


def test_seed_sample_to_eval_runs_verbatim_against_llm_calls_full(postgresql_seeded: Store) -> None:
    with postgresql_seeded.engine.connect() as connection:
        verbatim = {row.id for row in connection.execute(sa.text(SEED_SAMPLE_TO_EVAL))}
    ours = queries.run("eval_candidates", db=postgresql_seeded, **{**PARAMS["eval_candidates"], "limit": 50})
    assert len(verbatim) == 50 and len(ours) == 50
    everything = set(queries.run("eval_candidates", db=postgresql_seeded, **PARAMS["eval_candidates"])["id"])
    assert verbatim <= everything


def test_replays_stay_out_of_dashboard_numbers_unless_asked_for(store: Store) -> None:
    from tests.factories import make_call

    when = NOW - timedelta(hours=1)
    store.write_batch([make_call(when, call_id="orig"), make_call(when, call_id="again", source="replay",
                                                                  replay_of="orig")])  # fmt: skip
    window = {"start": NOW - timedelta(days=1), "end": NOW}
    assert queries.run("overview_kpis", db=store, **window).iloc[0]["calls"] == 1
    conditions = {"status": None, "refusals_only": 0, "feedback": None, "search": None, "unpriced_only": 0,
                  "prompt_version": None}  # fmt: skip
    assert queries.run("calls_count", db=store, **window, **conditions).iloc[0]["calls"] == 1
    assert queries.run("calls_count", db=store, **window, **conditions, include_replays=1).iloc[0]["calls"] == 2
