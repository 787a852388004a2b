"""The queries of sql/ on ClickHouse (chdb) give the numbers SQLite gives, over the same calls, spans and feedback.

Covered so far: the queries over the hot tables read raw (the rollups, and the tables of evals, alerts and replay
runs, come to ClickHouse next; see docs/clickhouse.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from obs.store import queries
from obs.store.store import Store
from tests.test_queries import CALLS, ENGINE_SPECIFIC, FEEDBACK, PARAMS, SPANS, _normalized

#: The queries that read only llm_calls, their content, spans and feedback.
HOT = sorted({
    "alert_call_stats", "alert_feedback", "alert_latency", "alert_spend", "calls_count", "calls_count_raw",
    "calls_page", "cost_per_call_by_model_raw", "daily_cost_by_feature_raw", "early_feedback", "eval_candidates",
    "feature_latency_p95", "filter_values_raw", "latency_percentiles_raw", "overview_kpis_raw", "recost_calls",
    "redaction_calls", "refusal_trend_raw", "session_calls", "sessions", "slowest_calls", "spend_by_tenant",
    "store_stats", "top_users_by_spend", "trends_raw", "ttft_by_model_raw", "storage_by_table", "store_size",
})  # fmt: skip


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, chdb_folder: Path) -> Iterator[tuple[Store, Store]]:
    pytest.importorskip("chdb")
    lite = Store(f"sqlite:///{tmp_path_factory.mktemp('q') / 'obs.db'}")
    house = Store(f"chdb:///{chdb_folder}?database=t_queries")
    house.reset()
    for store in (lite, house):
        store.write_batch(CALLS, SPANS, FEEDBACK)
    yield lite, house
    lite.close()
    house.close()


@pytest.mark.parametrize("name", HOT)
def test_each_query_gives_the_numbers_sqlite_gives(both: tuple[Store, Store], name: str) -> None:
    lite, house = both
    there = queries.run(name, db=house, **PARAMS[name])
    assert len(there) > 0
    if name in ENGINE_SPECIFIC:
        return
    here = _normalized(name, queries.run(name, db=lite, **PARAMS[name]))
    there = _normalized(name, there)
    assert list(here.columns) == list(there.columns)
    pd.testing.assert_frame_equal(here, there, check_dtype=False, rtol=1e-9)
