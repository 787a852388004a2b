"""Time every dashboard query and page on a big store (fill one first with ``bench.generate``).

    .venv/bin/python -m bench.scale --database-url sqlite:///big.db [--runs 3] [--window 30d]

Each query of sql/ that a page runs is timed with the dashboard's parameters (median of ``--runs``, after one
warm-up run); on PostgreSQL the seed guide's own SQL for the same questions is timed beside it as the baseline
(the DIY version, asked of the raw table). Pages are rendered with Streamlit's AppTest, query cache cleared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from obs import queries
from obs.store import Store

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}

#: What each page runs (name, extra parameters); the window and empty filters are added.
PAGE_QUERIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Overview": [
        ("overview_kpis", {}),
        ("overview_kpis (previous window)", {}),
        ("trends", {"bucket": "day"}),
        ("daily_cost_by_feature", {}),
        ("refusal_trend", {"bucket": "day"}),
        ("filter_values", {}),
    ],
    "Costs": [
        ("daily_cost_by_feature", {}),
        ("top_users_by_spend", {"limit": 20}),
        ("spend_by_tenant", {}),
        ("cost_per_call_by_model", {}),
    ],
    "Latency": [
        ("trends", {"bucket": "day"}),
        ("latency_percentiles", {}),
        ("ttft_by_model", {}),
        ("slowest_calls", {"limit": 25}),
    ],
    "Calls (first page)": [
        ("calls_count", {"status": None, "refusals_only": 0, "feedback": None, "search": None, "unpriced_only": 0,
                         "prompt_version": None}),
        ("calls_page", {"status": None, "refusals_only": 0, "feedback": None, "search": None, "unpriced_only": 0,
                         "prompt_version": None, "limit": 50,
                        "offset": 0}),
    ],
}  # fmt: skip

#: The seed guide's SQL for the same questions (PostgreSQL only), the DIY baseline.
SEED = {
    "daily_cost_by_feature": "SELECT date_trunc('day', ts) AS day, feature, SUM(cost_usd) AS cost, COUNT(*) AS calls "
    "FROM llm_calls WHERE ts > now() - interval '30 days' GROUP BY 1, 2 ORDER BY 1 DESC",
    "top_users_by_spend": "SELECT user_id, SUM(cost_usd) AS spend, COUNT(*) AS calls FROM llm_calls "
    "WHERE ts > now() - interval '30 days' GROUP BY user_id ORDER BY spend DESC LIMIT 20",
    "cost_per_call_by_model": "SELECT model, AVG(cost_usd) AS avg_cost, PERCENTILE_CONT(0.95) WITHIN GROUP "
    "(ORDER BY cost_usd) AS p95_cost FROM llm_calls WHERE ts > now() - interval '30 days' GROUP BY model",
    "latency_percentiles": "SELECT feature, model, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, "
    "PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95, PERCENTILE_CONT(0.99) WITHIN GROUP "
    "(ORDER BY latency_ms) AS p99 FROM llm_calls WHERE ts > now() - interval '30 days' GROUP BY feature, model "
    "ORDER BY p95 DESC",
}


def timed(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    result = run()  # warm-up (and the rows the dashboard would get)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", default="30d", choices=list(WINDOWS))
    args = parser.parse_args()
    store = Store(args.database_url)
    stats = store.stats()
    end = datetime.now(UTC)
    window = {"start": end - WINDOWS[args.window], "end": end}
    previous = {"start": end - 2 * WINDOWS[args.window], "end": end - WINDOWS[args.window]}
    per_call = stats.size_bytes / max(stats.calls, 1)
    print(f"{store.dialect}: {stats.calls:,} calls, {stats.size_bytes / 1e9:.2f} GB ({per_call:,.0f} bytes a call); "
          f"window {args.window}; median of {args.runs}")  # fmt: skip
    print(f"{'page / query':<42}{'obs ms':>10}{'rows':>8}{'seed SQL ms':>14}")
    for page, items in PAGE_QUERIES.items():
        total = 0.0
        for label, extra in items:
            name = label.split(" ")[0]
            params = {**(previous if "previous" in label else window), **extra}
            ms, frame = timed(lambda n=name, p=params: queries.run(n, db=store, **p), args.runs)
            total += ms
            baseline = ""
            if store.dialect == "postgresql" and name in SEED and "previous" not in label:
                with store.engine.connect() as connection:
                    seed_sql = sa.text(SEED[name])
                    seed_ms, _ = timed(lambda q=seed_sql: connection.execute(q).all(), args.runs)
                baseline = f"{seed_ms:14.0f}"
            print(f"  {label:<40}{ms:10.0f}{len(frame):8,}{baseline}")
        print(f"{page + ' total':<42}{total:10.0f}")
    storage = queries.run("storage_by_table", db=store)
    print("storage per call:")
    for row in storage.head(8).itertuples():
        print(f"  {row.name:<40}{row.kind:>10}{row.bytes / max(stats.calls, 1):10,.0f} bytes a call")
    os.environ["OBS_DATABASE_URL"] = args.database_url
    print("page render (AppTest, cold cache):")
    for page in [None, *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))]:
        print(f"  {page or 'app.py':<40}{render(page, args.window):10.0f}")


def render(page: str | None, window: str) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["window"] = window
    start = time.perf_counter()
    at.run()
    if page:
        st.cache_data.clear()
        start = time.perf_counter()
        at.switch_page(page).run()
    elapsed = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(at.exception)
    return elapsed


if __name__ == "__main__":
    main()
