"""The scale benchmark's generator writes valid, realistic calls that every dashboard query can read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.generate import generate
from obs.store import queries
from obs.store.store import Store


def test_generator_fills_a_store_the_dashboard_queries_can_read(db_url: str) -> None:
    generate(db_url, 2_000, days=10)
    store = Store(db_url)
    stats = store.stats()
    assert stats.calls == 2_000 and stats.errors > 0 and stats.unpriced_calls > 0
    end = datetime.now(UTC) + timedelta(minutes=1)
    kpis = queries.run("overview_kpis", db=store, start=end - timedelta(days=11), end=end)
    assert int(kpis.iloc[0]["calls"]) == 2_000
    days = queries.run("daily_cost_by_feature", db=store, start=end - timedelta(days=11), end=end)
    assert days["day"].nunique() >= 10
    store.close()
