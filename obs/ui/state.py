"""Access, store, filters kept in the URL, and cached queries."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from obs import config
from obs.store import db, queries
from obs.store.store import Store

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
WINDOW_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days"}
FILTER_KEYS = ("feature", "model", "tenant_id", "user_id")
FILTER_LABELS = {"feature": "Feature", "model": "Model", "tenant_id": "Tenant", "user_id": "User"}
ALL = "All"
#: URL parameters of one page (an open call or trace, the calls page's conditions) kept beside the filters.
PAGE_KEYS = frozenset({
    "call", "trace", "page", "run", "case", "dataset", "status", "feedback", "refusals", "unpriced", "prompt_version",
    "replays", "session", "sort", "q", "errors", "unhappy", "reviewer",
})  # fmt: skip
#: Seconds a query result is reused: the dashboard stays fresh without re-running every query on each click.
QUERY_TTL_S = 30
#: No page sends more rows than this to the browser.
MAX_ROWS = 10_000
#: URL parameters a page owns (what it shows), kept when the shared filters rewrite the URL.


@dataclass(frozen=True)
class Filters:
    """The time window and the optional filters every page shares; they live in the URL."""

    window: str = "7d"
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - WINDOWS["7d"])
    end: datetime = field(default_factory=lambda: datetime.now(UTC))
    feature: str | None = None
    model: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The named parameters of sql/_filters.sql."""
        return {"start": self.start, "end": self.end, **{k: getattr(self, k) for k in FILTER_KEYS}}

    def previous(self) -> Filters:
        """The window of the same length just before this one (for the change shown on tiles)."""
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)

    @property
    def bucket(self) -> str:
        return "hour" if self.end - self.start <= timedelta(days=2) else "day"

    def url_params(self, **extra: str) -> dict[str, str]:
        """Query parameters that reproduce this view (to link to another page with the same filters)."""
        out = {"window": self.window}
        if self.window == "custom":
            out |= {"start": self.start.isoformat(timespec="seconds"), "end": self.end.isoformat(timespec="seconds")}
        out |= {k: v for k in FILTER_KEYS if (v := getattr(self, k))}
        return out | extra


#: The navigation, in order: each page's script and its name (`obs dashboard` hides Streamlit's own list, which
#: would call the home page "app").
NAVIGATION = [
    ("app.py", "Overview"), ("pages/1_Costs.py", "Costs"), ("pages/2_Latency.py", "Latency"),
    ("pages/3_Calls.py", "Calls"), ("pages/3_Sessions.py", "Sessions"), ("pages/4_Trace.py", "Trace"),
    ("pages/5_Replay.py", "Replay"), ("pages/6_Triage.py", "Triage"), ("pages/7_Datasets.py", "Datasets"),
    ("pages/8_Alerts.py", "Alerts"), ("pages/9_Redaction.py", "Redaction"),
]  # fmt: skip


def page(title: str) -> Filters:
    """Every page starts here: page config (the one place it is set), access check, the navigation and the
    shared filters (a link to another page keeps them)."""
    st.set_page_config(page_title=f"obs · {title}", page_icon="🔭", layout="wide")
    require_access()
    st.title(title)
    links = st.sidebar.container()
    filters = sidebar_filters()
    for path, name in NAVIGATION:
        links.page_link(path, label=name, query_params=filters.url_params())
    links.divider()
    return filters


# --- access ------------------------------------------------------------------------------------------


def require_access() -> None:
    """Stop the page unless the viewer may see it: OBS_DASHBOARD_PASSWORD and/or Streamlit's OIDC login."""
    if oidc_configured() and not st.user.get("is_logged_in", False):
        st.info("This dashboard shows full prompts and answers. Sign in to continue.")
        st.button("Sign in", on_click=st.login)
        st.stop()
    expected = os.environ.get(config.ENV_DASHBOARD_PASSWORD)
    if not expected or st.session_state.get("obs_authenticated"):
        return
    given = st.text_input("Password", type="password", key="obs_password")
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        st.session_state["obs_authenticated"] = True
        st.rerun()
    if given:
        st.error("Wrong password.")
    st.stop()


def oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml configures Streamlit's OIDC login ([auth])."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


# --- store and queries ----------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def current_store() -> Store:
    """The store at OBS_DATABASE_URL; stops the page with one clear message when it cannot be opened."""
    try:
        return _store(config.database_url())
    except db.StoreError as exc:
        st.error(str(exc))
        st.stop()
        raise


@st.cache_data(ttl=QUERY_TTL_S, show_spinner=False, max_entries=500)
def _run(url: str, name: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    frame = queries.run(name, db=_store(url), **dict(params))
    return frame.head(MAX_ROWS)


def refresh() -> None:
    """Forget cached query results (after the page itself changed the store)."""
    _run.clear()


def query(name: str, filters: Filters | None = None, **params: Any) -> pd.DataFrame:
    """Run sql/<name> with the filters (and extra parameters); results are cached for QUERY_TTL_S."""
    current_store()
    merged = {**(filters.params if filters else {}), **params}
    return _run(config.database_url(), name, tuple(sorted(merged.items())))


# --- filters in the URL ---------------------------------------------------------------------------------


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def filters_from_url() -> Filters:
    """Filters as the URL gives them (a shared link reproduces the view). Moving between pages with the
    sidebar drops the URL's parameters, so a session keeps its last filters when the URL names none."""
    qp: dict[str, str] = dict(st.query_params)
    if not ({"window", *FILTER_KEYS} & qp.keys()) and "obs_filters" in st.session_state:
        qp = {**st.session_state["obs_filters"], **qp}
    end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    window = qp.get("window", "7d")
    start_at, end_at = _parse_time(qp.get("start")), _parse_time(qp.get("end"))
    if window == "custom" and start_at and end_at and start_at < end_at:
        start, end = start_at, end_at
    else:
        window = window if window in WINDOWS else "7d"
        start = end - WINDOWS[window]
    chosen = {k: qp.get(k) or None for k in FILTER_KEYS}
    return Filters(window=window, start=start, end=end, **chosen)


def sidebar_filters() -> Filters:
    """The window and filter widgets; their values are written back to the URL."""
    current = filters_from_url()
    sidebar = st.sidebar
    windows = list(WINDOWS) + (["custom"] if current.window == "custom" else [])
    labels = WINDOW_LABELS | {"custom": f"{current.start:%b %d %H:%M} – {current.end:%b %d %H:%M} UTC"}
    window = sidebar.selectbox(
        "Time window", windows, index=windows.index(current.window), format_func=labels.__getitem__
    )
    if window != current.window:
        current = replace(current, window=window, start=current.end - WINDOWS[window]) if window in WINDOWS else current
    options = query("filter_values", start=current.start, end=current.end)
    chosen: dict[str, str | None] = {}
    for key in FILTER_KEYS:
        values = [ALL, *options.loc[options["kind"] == key, "value"].tolist()]
        mine = getattr(current, key)
        if mine and mine not in values:
            values.append(mine)
        picked = sidebar.selectbox(FILTER_LABELS[key], values, index=values.index(mine) if mine else 0)
        chosen[key] = None if picked == ALL else picked
    result = replace(
        current, feature=chosen["feature"], model=chosen["model"], tenant_id=chosen["tenant_id"],
        user_id=chosen["user_id"],
    )  # fmt: skip
    keep = {k: v for k, v in st.query_params.items() if k in PAGE_KEYS}
    wanted = result.url_params(**keep)
    st.session_state["obs_filters"] = result.url_params()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
    sidebar.caption(f"Store: `{db.display_url(current_store().engine.url)}`")
    return result


def keep_in_url(values: dict[str, str | None]) -> bool:
    """Write a page's own parameters into the URL (None removes one); whether any changed."""
    changed = False
    for key, value in values.items():
        if st.query_params.get(key) != value:
            changed = True
            if value is None:
                st.query_params.pop(key, None)
            else:
                st.query_params[key] = value
    return changed


def pickable_table(shown: pd.DataFrame, rows: pd.DataFrame, *, key: str, columns: dict[str, Any], param: str,
                   id_column: str, hint: str) -> None:  # fmt: skip
    """A table whose selected row opens itself: ``?<param>=<the row's id_column in rows>``, then a rerun."""
    # The table's key changes once a row is opened: the browser would otherwise keep the row selected and open it
    # again when "Back to the list" shows the table.
    generation = f"{key}_generation"
    event = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key=f"{key}_{st.session_state.get(generation, 0)}", column_order=list(columns),
                         column_config=columns)  # fmt: skip
    picked = event.selection.rows
    if picked:
        st.query_params[param] = str(rows.iloc[picked[0]][id_column])
        st.session_state[generation] = st.session_state.get(generation, 0) + 1
        st.rerun()
    st.caption(hint)
