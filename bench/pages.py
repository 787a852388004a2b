"""Render time of every dashboard page on a store (a benchmark: the demo store by default).

    .venv/bin/python -m bench.pages [--database-url sqlite:///obs.db] [--runs 3]

Each page is rendered with Streamlit's AppTest (the real page code, queries included) with a cold query cache,
then again warm; the median of the runs is printed per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def render(page: str | None, window: str) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["window"] = window
    start = time.perf_counter()
    at.run()
    if page:
        start = time.perf_counter()
        at.switch_page(page).run()
    elapsed = time.perf_counter() - start
    assert not at.exception, at.exception
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("OBS_DATABASE_URL", "sqlite:///obs.db"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", default="30d")
    args = parser.parse_args()
    os.environ["OBS_DATABASE_URL"] = args.database_url
    pages = [None, *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))]
    print(f"{args.database_url}, window {args.window}, median of {args.runs} runs")
    for page in pages:
        cold, warm = [], []
        for _ in range(args.runs):
            st.cache_data.clear()
            cold.append(render(page, args.window))
            warm.append(render(page, args.window))
        name = page or "app.py (Overview)"
        print(f"  {name:<24} cold {statistics.median(cold):6.2f} s   cached {statistics.median(warm):6.2f} s")


if __name__ == "__main__":
    main()
