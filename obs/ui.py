"""Streamlit helpers shared by app.py and pages/: the only obs module that imports streamlit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from obs import config, db, queries
from obs.store import Store, StoreStats

WINDOWS = {
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}


@st.cache_resource(show_spinner=False)
def store(url: str) -> Store:
    """One migrated store per database URL for the whole dashboard process."""
    return Store(url)


def current_store() -> Store:
    """The store at OBS_DATABASE_URL; stops the page with one clear message when it cannot be opened."""
    try:
        return store(config.database_url())
    except db.StoreError as exc:
        st.error(str(exc))
        st.stop()
        raise


def time_window(key: str = "window") -> tuple[datetime, datetime]:
    """A window picker in the sidebar; returns (start, end) in UTC."""
    label = st.sidebar.selectbox("Time window", list(WINDOWS), index=1, key=key)
    end = datetime.now(UTC)
    return end - WINDOWS[label], end


def stats_tiles(stats: StoreStats) -> None:
    """Calls, traces, total cost and unpriced calls as metric tiles."""
    cols = st.columns(4)
    cols[0].metric("Calls", f"{stats.calls:,}")
    cols[1].metric("Traces", f"{stats.traces:,}")
    cost = "—" if stats.total_cost_usd is None else f"${stats.total_cost_usd:,.2f}"
    cols[2].metric("Total cost", cost, help="Priced calls only; unpriced calls are never counted as $0.")
    cols[3].metric("Unpriced calls", f"{stats.unpriced_calls:,}", help="No known price for the model.")


def query_table(title: str, name: str, **params: object) -> pd.DataFrame:
    """Run sql/<name> and show it under a heading; empty results say so instead of an empty grid."""
    st.subheader(title)
    frame = queries.run(name, db=current_store(), **params)
    if frame.empty:
        st.info("No calls in this window.")
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
    return frame
