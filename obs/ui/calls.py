"""The Calls page's list: filters kept in the URL, a pager, and a table people read (headers, units, "—", ✓)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from obs.capture.fields import text_of
from obs.config import CALLS_COUNT_CAP as COUNT_CAP
from obs.ui.state import Filters, keep_in_url, query
from obs.ui.tables import duration, first_words, money

PAGE_SIZE = 50
STATUSES, FEEDBACKS = ["All", "ok", "error"], ["All", "thumbs_down", "thumbs_up"]
#: The table's columns, as people read them (the values are formatted by ``readable``).
COLUMNS = {
    "ts": st.column_config.DatetimeColumn("Time", format="MMM D, HH:mm", width=88),
    "short_id": st.column_config.TextColumn("Call", help="The start of the call's id (open the call)", width=72),
    "feature": st.column_config.TextColumn("Feature", width=86),
    "model": st.column_config.TextColumn("Model", width=84),
    "prompt_version": st.column_config.TextColumn("Prompt", width=52),
    "user_id": st.column_config.TextColumn("User", width=92),
    "status": st.column_config.TextColumn("Status", width=48),
    "refusal": st.column_config.TextColumn("Refusal", width=50),
    "feedback": st.column_config.TextColumn("Feedback", width=60),
    "cost": st.column_config.TextColumn("Cost", help="Unpriced: the model has no known price", width=60),
    "latency": st.column_config.TextColumn("Latency", width=56),
    "question": st.column_config.TextColumn("Question", width=96),
    "answer": st.column_config.TextColumn("Answer", width=96),
}
_FEEDBACK = {"thumbs_down": "down", "thumbs_up": "up"}


def _index(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


def conditions_from_widgets() -> dict[str, Any]:
    """The page's filter widgets, started from the URL and written back to it (a link, or "Back to the list",
    reproduces the page)."""
    url = st.query_params
    cols = st.columns([1, 1, 1, 1, 1, 1, 2])
    status = cols[0].selectbox("Status", STATUSES, index=_index(STATUSES, url.get("status")), key="calls_status")
    feedback = cols[1].selectbox("Feedback", FEEDBACKS, index=_index(FEEDBACKS, url.get("feedback")))
    prompt_version = cols[2].text_input("Prompt version", value=url.get("prompt_version", ""), placeholder="any")
    refusals_only = cols[3].checkbox("Refusals only", value=url.get("refusals") == "1")
    unpriced_only = cols[4].checkbox("Unpriced only", value=url.get("unpriced") == "1")
    replays = cols[5].checkbox("Include replays", value=url.get("replays") == "1", help="Calls made by obs replay")
    search = cols[6].text_input("Search in answers", value=url.get("q", ""), placeholder="e.g. refund",
                                key="calls_search")  # fmt: skip
    wanted = {
        "status": None if status == "All" else status, "feedback": None if feedback == "All" else feedback,
        "prompt_version": prompt_version.strip() or None, "refusals": "1" if refusals_only else None,
        "unpriced": "1" if unpriced_only else None, "replays": "1" if replays else None, "q": search.strip() or None,
    }  # fmt: skip
    if keep_in_url(wanted) and "page" in url:  # other filters: back to their first page
        url.pop("page", None)
    return {
        "status": wanted["status"], "feedback": wanted["feedback"], "refusals_only": int(refusals_only),
        "unpriced_only": int(unpriced_only), "prompt_version": wanted["prompt_version"],
        "search": f"%{search.strip()}%" if search.strip() else None, "include_replays": int(replays),
    }  # fmt: skip


def pager(total: int) -> int:
    """The page to show (in the URL as ``page``): previous / next buttons and the page number."""
    pages = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    given = st.query_params.get("page", "1")
    current = min(max(1, int(given)) if given.isdigit() else 1, pages)
    shown = f"{COUNT_CAP:,}+ calls; narrow the filters to see more" if total > COUNT_CAP else f"{total:,} calls"
    cols = st.columns([1, 1, 1, 6])
    if cols[0].button("← Previous", disabled=current <= 1, width="stretch", key="calls_previous"):
        current -= 1
    if cols[2].button("Next →", disabled=current >= pages, width="stretch", key="calls_next"):
        current += 1
    cols[1].markdown(f"Page **{current:,}** of {pages:,}")
    cols[3].caption(shown)
    if current == 1:
        st.query_params.pop("page", None)
    elif st.query_params.get("page") != str(current):
        st.query_params["page"] = str(current)
    return current


def calls_list(filters: Filters) -> pd.DataFrame | None:
    """One page of the calls the filters match, as shown (None when there are none)."""
    conditions = conditions_from_widgets()
    total = int(query("calls_count", filters, **conditions).iloc[0]["calls"])  # counted up to COUNT_CAP + 1
    number = pager(total)
    rows = query("calls_page", filters, **conditions, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    return None if rows.empty else rows


def readable(rows: pd.DataFrame) -> pd.DataFrame:
    """The page's rows as people read them: "—" for nothing, ✓ for yes, $ and ms or s, the first words."""
    out = pd.DataFrame({"ts": rows["ts"], "short_id": rows["id"].map(lambda v: str(v)[:8])})
    for column in ("feature", "model", "prompt_version", "user_id", "status"):
        out[column] = rows[column].map(lambda v: v if isinstance(v, str) and v else "—")
    out["refusal"] = rows["is_refusal"].map(lambda v: "✓" if bool(v) else "")
    out["feedback"] = rows["user_feedback"].map(lambda v: _FEEDBACK.get(v, v) if isinstance(v, str) else "")
    out["cost"] = rows["cost_usd"].map(money)
    out["latency"] = rows["latency_ms"].map(duration)
    out["question"] = rows["messages"].map(lambda m: first_words(question_of(m)))
    out["answer"] = rows["output_preview"].map(first_words)
    return out


def question_of(messages: Any) -> str | None:
    """The last user message's text of a call's messages (as stored: a JSON list, or its text)."""
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            return None
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    return None
