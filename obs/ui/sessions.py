"""Sessions: conversations (calls that share a ``session_id``) as a table, and one of them as a chat, turn by turn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from obs.records import LLMCall
from obs.ui.calls import question_of
from obs.ui.state import Filters, current_store, keep_in_url, pickable_table, query
from obs.ui.tables import duration, first_words
from obs.ui.views import CALLS_PAGE, TRACE_PAGE

PAGE_SIZE = 50
#: Sessions a window lists at most (the most recently active).
MAX_SESSIONS = 5_000
#: How the list can be sorted: label -> (column, descending).
SORTS = {
    "Last active": ("last_ts", True),
    "Cost": ("cost_usd", True),
    "Turns": ("turns", True),
    "Errors": ("errors", True),
    "Thumbs-down": ("thumbs_down", True),
    "First active": ("first_ts", False),
}
#: The list's columns (fitting 1440 px beside the sidebar); the session id is shown once one is opened.
COLUMNS = {
    "last_ts": st.column_config.DatetimeColumn("Last active", format="MMM D, HH:mm", width=100),
    "question": st.column_config.TextColumn("First question", width=250),
    "user_id": st.column_config.TextColumn("User", help="Its user, or how many took part", width=124),
    "turns": st.column_config.NumberColumn("Turns", help="Traces: one per question the app answered", width=56),
    "cost_usd": st.column_config.NumberColumn("Cost", format="$%.4f", width=76),
    "tokens": st.column_config.NumberColumn("Tokens", format="localized", width=70),
    "errors": st.column_config.NumberColumn("Errors", width=58),
    "refusals": st.column_config.NumberColumn("Refusals", width=70),
    "thumbs_down": st.column_config.NumberColumn("Thumbs-down", width=96),
}


def sessions_table(filters: Filters) -> None:
    """The sessions active in the window: sort, narrow, page, and open one (?session=<id>)."""
    found = query("sessions", filters, limit=MAX_SESSIONS, include_replays=0)
    if found.empty:
        st.info("No sessions in this window. Calls get a session with `obs.trace(..., session_id=...)`, the "
                "`obs-session-id` header of `obs proxy`, or `gen_ai.conversation.id` over OTLP.")  # fmt: skip
        return
    url = st.query_params
    cols = st.columns([1, 1, 2, 1, 1])
    sorts = list(SORTS)
    sort = cols[0].selectbox("Sort by", sorts, index=sorts.index(url["sort"]) if url.get("sort") in SORTS else 0)
    text = cols[2].text_input("Session or user contains", value=url.get("q", ""), placeholder="any")
    errors_only = cols[3].checkbox("With errors", value=url.get("errors") == "1")
    unhappy_only = cols[4].checkbox("With thumbs-down", value=url.get("unhappy") == "1")
    keep_in_url({"sort": sort if sort != sorts[0] else None, "q": text.strip() or None,
                 "errors": "1" if errors_only else None, "unhappy": "1" if unhappy_only else None})  # fmt: skip
    shown = found
    if text.strip():
        needle = text.strip().lower()
        shown = shown[shown["session_id"].str.lower().str.contains(needle, regex=False)
                      | shown["user_id"].fillna("").str.lower().str.contains(needle, regex=False)]  # fmt: skip
    if errors_only:
        shown = shown[shown["errors"] > 0]
    if unhappy_only:
        shown = shown[shown["thumbs_down"] > 0]
    column, descending = SORTS[sort]
    shown = shown.sort_values([column, "session_id"], ascending=[not descending, True], na_position="last")
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    more = f" (the {MAX_SESSIONS:,} most recently active)" if len(found) >= MAX_SESSIONS else ""
    number = int(cols[1].number_input(f"Page (of {pages:,})", 1, pages, 1))
    st.caption(f"{len(shown):,} sessions{more}")
    rows = shown.iloc[(number - 1) * PAGE_SIZE : number * PAGE_SIZE].copy()
    if rows.empty:
        st.info("No sessions match.")
        return
    rows["question"] = _first_questions(rows["first_call_id"].tolist())
    rows["user_id"] = [f"{n} users" if n > 1 else (u if isinstance(u, str) else "—")
                       for u, n in zip(rows["user_id"], rows["users"], strict=True)]  # fmt: skip
    pickable_table(rows, rows, key="sessions_table", columns=COLUMNS, param="session", id_column="session_id",
                   hint="Select a row to read the conversation.")  # fmt: skip


def _first_questions(call_ids: list[Any]) -> list[str]:
    store = current_store()
    out = []
    for call_id in call_ids:
        call = store.get_call(str(call_id)) if call_id else None
        out.append(first_words(question(call) if call else None, 120))
    return out


def question(call: LLMCall) -> str | None:
    """What the user asked in a call: its last user message's text."""
    return question_of(call.content.messages if call.content is not None else None)


@dataclass
class Turn:
    """One question and its answer: the calls of one trace, the last of them the one that answered."""

    trace_id: str
    calls: pd.DataFrame

    @property
    def answer_id(self) -> str:
        return str(self.calls.iloc[-1]["id"])


def session_chat(session_id: str, filters: Filters) -> None:
    """One conversation as a chat: each turn's question and answer, model, cost and latency, its feedback, and
    links to the call and its trace."""
    calls = query("session_calls", session=session_id)
    if calls.empty:
        st.error(f"No calls in session {session_id!r} in this store.")
        return
    turns = [Turn(str(trace), group) for trace, group in calls.groupby("trace_id", sort=False)]
    users = ", ".join(sorted({str(u) for u in calls["user_id"].dropna()})) or "—"
    spend = calls["cost_usd"].dropna().sum()
    st.subheader(f"Session `{session_id}`")
    st.markdown(
        f"{len(turns)} turns · {len(calls)} calls · user **{users}** · "
        f"{pd.Timestamp(calls['ts'].min()):%b %d %H:%M} – {pd.Timestamp(calls['ts'].max()):%b %d %H:%M} UTC · "
        f"**${spend:,.4f}**"
    )
    store = current_store()
    for number, turn in enumerate(turns, 1):
        answer = store.get_call(turn.answer_id)
        if answer is None:
            continue
        with st.chat_message("user"):
            st.markdown(f"**{number}.** {question(answer) or '—'}")
        with st.chat_message("assistant"):
            st.markdown(answer.content.output_text if answer.content and answer.content.output_text else "—")
            st.caption(_turn_facts(turn, answer))
            links = st.columns([1, 1, 4])
            links[0].page_link(CALLS_PAGE, label="The call →", query_params=filters.url_params(call=answer.id))
            links[1].page_link(TRACE_PAGE, label="Its trace →", query_params=filters.url_params(trace=turn.trace_id))


#: Feedback as the turn's caption shows it (Material icons: Streamlit ships their font, emoji need one installed).
FEEDBACK = {"thumbs_down": ":material/thumb_down: thumbs-down", "thumbs_up": ":material/thumb_up: thumbs-up"}


def _turn_facts(turn: Turn, answer: LLMCall) -> str:
    cost = turn.calls["cost_usd"].dropna()
    facts = [
        f"model {answer.model}",
        "unpriced" if cost.empty else f"${cost.sum():,.4f}" + (f" ({len(turn.calls)} calls)" * (len(turn.calls) > 1)),
        duration(answer.latency_ms),
    ]
    if answer.status == "error":
        facts.append(f":material/warning: {answer.error_type or 'error'}")
    if answer.is_refusal:
        facts.append("refused")
    feedback = [str(v) for v in turn.calls["user_feedback"].dropna()]
    if feedback:
        facts.append(" ".join(FEEDBACK.get(v, v) for v in feedback))
    return " · ".join(facts)
