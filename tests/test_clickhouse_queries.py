"""Every query of sql/ on ClickHouse (chdb) gives the numbers SQLite gives, over the same seeded store: calls,
spans, feedback, replays and a replay run, an alert check, eval cases sampled, accepted and rejected; the
queries that read the rollups included (their sums exact, their percentiles from the same histograms)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from obs.store import queries
from obs.store.store import Store
from tests.test_queries import ENGINE_SPECIFIC, PARAMS, WRITES, _normalized, _seed

ON_CLICKHOUSE = sorted(set(PARAMS) - WRITES)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, chdb_folder: Path) -> Iterator[tuple[Store, Store]]:
    pytest.importorskip("chdb")
    lite = _seed(f"sqlite:///{tmp_path_factory.mktemp('q') / 'obs.db'}")
    house = _seed(f"chdb:///{chdb_folder}?database=t_queries")
    yield lite, house
    lite.close()
    house.close()


@pytest.mark.parametrize("name", ON_CLICKHOUSE)
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
