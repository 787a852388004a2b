"""The Replay page's parts: the override form, a call and its replay side by side, batch runs and their history."""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd
import streamlit as st

from obs.records import LLMCall
from obs.replay import providers
from obs.replay.call import Overrides, ReplayError, default_provider, replay_call
from obs.replay.compare import Comparison, Piece, RunSummary, compare
from obs.replay.providers import ProviderError
from obs.replay.runs import Selection, StoredRun, open_run, run_batch
from obs.store import queries
from obs.store.store import Store
from obs.ui import tables
from obs.ui.state import Filters

REPLAY_PAGE = "pages/5_Replay.py"
CALLS_PAGE = "pages/3_Calls.py"
REPLAY_COLUMNS = ["ts", "model", "temperature", "status", "finish_reason", "is_refusal", "prompt_tokens",
                  "completion_tokens", "cost_usd", "latency_ms", "output_preview"]  # fmt: skip
#: Runs listed in the history.
RUN_HISTORY = 50
_STYLE = {
    "delete": "background:#ffd7d5;color:#82071e;text-decoration:line-through;margin-right:0.25em;",
    "insert": "background:#ccf5d3;color:#055d20;text-decoration:none;",
}


# --- one call ---------------------------------------------------------------------------------------------


def replay_call_view(store: Store, call: LLMCall, filters: Filters) -> None:
    """A call, a form to replay it with overrides, the comparison, and every earlier replay of it."""
    st.markdown(
        f"Call `{call.id}` · {call.feature or 'no feature'} · model **{call.model}** · {call.ts:%Y-%m-%d %H:%M} UTC"
        f" · status **{call.status}**"
    )
    st.page_link(CALLS_PAGE, label="Open the original call →", query_params=filters.url_params(call=call.id))
    if call.content is None or call.content_state not in {"full", "redacted"}:
        st.error(
            f"This call cannot be replayed: its content is {call.content_state.replace('_', '-')} (the messages "
            "were never stored or have expired)."
        )
        return
    overrides = _override_form(call)
    just_run: str | None = None
    if overrides is not None:
        with st.spinner("Replaying..."):
            try:
                result = replay_call(store, call.id, overrides)
            except (ReplayError, ProviderError) as exc:
                st.error(str(exc))
            else:
                just_run = result.replay.id
                if result.error:
                    st.error(f"The provider failed: {result.error}")
    earlier = queries.run("replays_of_call", db=store, call_id=call.id)  # not cached: a replay just ran
    earlier["is_refusal"] = earlier["is_refusal"].astype(bool)
    if earlier.empty:
        st.info("No replays of this call yet: change something above and press Replay.")
        return
    # The replay just made, else the one picked in the table below, else the newest.
    picked = (st.session_state.get("replays_table") or {}).get("selection", {}).get("rows", [])
    if just_run is None and picked and picked[0] < len(earlier):
        chosen = str(earlier.iloc[picked[0]]["id"])
    else:
        chosen = just_run or str(earlier.iloc[0]["id"])
    replay = store.get_call(chosen)
    if replay is not None:
        comparison_view(compare(call, replay), filters)
    st.markdown(f"#### Every replay of this call ({len(earlier)})")
    tables.show(earlier, pick=True, key="replays_table", order=REPLAY_COLUMNS)
    st.caption("Select a replay to compare it with the original.")


def _override_form(call: LLMCall) -> Overrides | None:
    """The override form; the Overrides to replay with once submitted (None before, or on bad input)."""
    assert call.content is not None
    try:
        names = sorted(providers.available())
    except ProviderError as exc:
        st.error(str(exc))
        return None
    default = default_provider(call)
    with st.form("replay_form"):
        cols = st.columns([1, 1, 1])
        provider = cols[0].selectbox("Provider", names, index=names.index(default) if default in names else 0)
        model = cols[1].text_input("Model", value=call.model)
        recorded = "" if call.temperature is None else f"{call.temperature:g}"
        temperature = cols[2].text_input("Temperature", value=recorded, help="Blank: as recorded.")
        original_prompt = call.content.system_prompt or ""
        prompt = st.text_area("System prompt", value=original_prompt, height=180)
        edits: dict[int, str] = {}
        messages = call.content.messages if isinstance(call.content.messages, list) else []
        with st.expander("Edit other messages"):
            for index, message in enumerate(messages):
                if not isinstance(message, dict) or message.get("role") in {"system", "developer"}:
                    continue
                content = message.get("content")
                if isinstance(content, str):
                    new = st.text_area(f"{index}. {message.get('role')}", value=content, key=f"message_{index}")
                    if new != content:
                        edits[index] = new
        params_text = st.text_input("Other parameters (JSON)", value="{}", help='e.g. {"max_tokens": 200}')
        submitted = st.form_submit_button("Replay", type="primary")
    if not submitted:
        return None
    try:
        params = json.loads(params_text or "{}")
        if not isinstance(params, dict):
            raise ValueError("not an object")
        temp = float(temperature) if temperature.strip() else None
    except ValueError as exc:
        st.error(f"Check the temperature and the parameters (a JSON object): {exc}")
        return None
    return Overrides(
        model=model.strip() if model.strip() and model.strip() != call.model else None,
        system_prompt=prompt if prompt != original_prompt else None,
        messages=edits,
        temperature=temp if temp != call.temperature else None,
        params=params,
        provider=provider,
    )


def comparison_view(c: Comparison, filters: Filters) -> None:
    """Original and replay side by side: the answers, a word diff, tool calls, and the deltas."""
    o, r = c.original, c.replay
    st.markdown("#### " + ("Answer changed" if c.changed else "Answer unchanged"))
    model = f"model **{r.model}**" + ("" if r.model == o.model else f" (was {o.model})")
    tiles = st.columns(4)
    tiles[0].metric("Finish reason", r.finish_reason or "—", None if not c.finish_reason_changed
                    else f"was {o.finish_reason or '—'}", delta_color="off")  # fmt: skip
    tiles[1].metric("Tokens", f"{(r.prompt_tokens or 0) + (r.completion_tokens or 0):,}",
                    _delta(c, "prompt_tokens", "completion_tokens"), delta_color="inverse")  # fmt: skip
    cost = c.delta("cost_usd")
    tiles[2].metric("Cost", "unpriced" if r.cost_usd is None else f"${float(r.cost_usd):.4g}",
                    None if cost is None else _dollars(cost), delta_color="inverse")  # fmt: skip
    latency = c.delta("latency_ms")
    tiles[3].metric("Latency", "—" if r.latency_ms is None else f"{r.latency_ms:,} ms",
                    None if latency is None else f"{latency:+,.0f} ms", delta_color="inverse")  # fmt: skip
    refusal = "refused" if r.is_refusal else "answered"
    if r.is_refusal != o.is_refusal:
        refusal += f" (the original {'refused' if o.is_refusal else 'answered'})"
    st.markdown(f"Replay `{r.id}` {refusal} · {model} · status **{r.status}** · tokens in "
                f"{_int(o.prompt_tokens)} → {_int(r.prompt_tokens)}, out "
                f"{_int(o.completion_tokens)} → {_int(r.completion_tokens)}")  # fmt: skip
    if r.status == "error":
        st.error(f"The replay failed: {r.error}")
    st.markdown("**Word diff** (red: only in the original, green: only in the replay)")
    st.html(diff_html(c.pieces) or "<em>(no text on either side)</em>")
    left, right = st.columns(2)
    for column, call, title in ((left, o, "Original"), (right, r, "Replay")):
        with column:
            st.markdown(f"**{title}** `{call.id}` · {call.model}")
            st.text((call.content.output_text if call.content else None) or "(no text)", wrap=True)
            if call.content and call.content.tool_calls:
                st.json(call.content.tool_calls, expanded=False)
    if c.tool_changes:
        st.markdown("**Tool calls changed**")
        for change in c.tool_changes:
            st.markdown(f"- {change.change}: `{change.name}({change.arguments})`")
    st.page_link(CALLS_PAGE, label="Open the replay as a call →", query_params=filters.url_params(call=r.id))


def diff_html(pieces: tuple[Piece, ...]) -> str:
    """The word diff as HTML (escaped text; deletions struck through in red, insertions in green)."""
    spans = []
    for piece in pieces:
        text = html.escape(piece.text)
        spans.append(f'<span style="{_STYLE[piece.op]}">{text}</span>' if piece.op in _STYLE else text)
    body = "".join(spans)
    style = "white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:0.9rem;line-height:1.5;"
    return f'<div style="{style}">{body}</div>' if body else ""


def _dollars(delta: float) -> str:
    return f"{delta:+.6f}".rstrip("0").rstrip(".") + " $"


def _int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _delta(c: Comparison, *fields: str) -> str | None:
    values = [c.delta(f) for f in fields]
    if any(v is None for v in values):
        return None
    return f"{sum(v or 0 for v in values):+,.0f}"


# --- batch runs -------------------------------------------------------------------------------------------


def batch_form(store: Store, filters: Filters) -> None:
    """Replay an eval dataset or the calls of a feature with one set of overrides, with a progress bar."""
    with st.form("batch_form"):
        cols = st.columns(4)
        dataset = cols[0].text_input("Eval dataset", help="Replay every case of this dataset...")
        feature = cols[1].text_input("...or the calls of a feature", value=filters.feature or "")
        limit = int(cols[2].number_input("At most", 1, 10_000, 50))
        concurrency = int(cols[3].number_input("At once", 1, 32, 4))
        cols = st.columns(4)
        model = cols[0].text_input("Model", help="Blank: as recorded.")
        temperature = cols[1].text_input("Temperature", help="Blank: as recorded.")
        names = sorted(providers.available())
        provider = cols[2].selectbox("Provider", ["(as each call)", *names])
        name = cols[3].text_input("Run name", help="Blank: the dataset or feature and the time.")
        old = st.text_input("Replace in the system prompt", help="Text to replace in each call's system prompt.")
        new = st.text_input("...with")
        submitted = st.form_submit_button("Run batch replay", type="primary")
    if not submitted:
        return
    if not (dataset or feature):
        st.error("Name an eval dataset or a feature to replay.")
        return
    try:
        overrides = Overrides(
            model=model or None,
            temperature=float(temperature) if temperature.strip() else None,
            replace=((old, new),) if old else (),
            provider=None if provider.startswith("(") else provider,
        )
    except ValueError:
        st.error("The temperature must be a number.")
        return
    bar = st.progress(0.0, text="Starting...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done:,} / {total:,} calls replayed")

    try:
        run = run_batch(store, Selection(dataset=dataset or None, feature=feature or None, limit=limit), overrides,
                        name=name or None, concurrency=concurrency, progress=progress)  # fmt: skip
    except (ReplayError, ProviderError) as exc:
        bar.empty()
        st.error(str(exc))
        return
    s = run.summary
    st.success(f'Run "{run.name}" finished: {s.changed:,} of {s.calls:,} answers changed, {s.errors:,} errors.')
    st.page_link(REPLAY_PAGE, label=f"Open run {run.name} →", query_params=filters.url_params(run=run.id))


def run_history(store: Store, filters: Filters) -> None:
    """Every named run, newest first, each opening its own view."""
    runs = queries.run("replay_runs", db=store, limit=RUN_HISTORY)
    if runs.empty:
        st.info("No replay runs yet.")
        return
    tables.show(runs.drop(columns=["id"]))
    for row in runs.itertuples():
        st.page_link(REPLAY_PAGE, label=f"Open run {row.name} →", query_params=filters.url_params(run=str(row.id)))


def run_view(store: Store, name_or_id: str, filters: Filters) -> None:
    """A stored run: what it replayed with what, its summary, and every call side by side."""
    try:
        run: StoredRun = open_run(store, name_or_id)
    except ReplayError as exc:
        st.error(str(exc))
        return
    st.subheader(f"Run “{run.name}”")
    st.caption(f"{run.created_at:%Y-%m-%d %H:%M} UTC · provider {run.provider} · calls {_describe(run.selection)}"
               f" · overrides {_describe(run.overrides) or 'none (exact replay)'}")  # fmt: skip
    summary_tiles(run.summary)
    event = tables.show(_run_table(run.items), pick=True, key="run_items", order=RUN_COLUMNS)
    picked = event.selection.rows
    if picked:
        row = run.items.iloc[picked[0]]
        original = store.get_call(str(row["call_id"]))
        replay = store.get_call(str(row["replay_id"])) if pd.notna(row["replay_id"]) else None
        if original is not None and replay is not None:
            comparison_view(compare(original, replay), filters)
        elif pd.notna(row["error"]):
            st.error(str(row["error"]))
    else:
        st.caption("Select a row to compare that call with its replay.")


def summary_tiles(s: RunSummary) -> None:
    """A run's summary as tiles (changes against the originals under each)."""
    cols = st.columns(6)
    cols[0].metric("Calls", f"{s.calls:,}", help="Calls selected for the run")
    cols[1].metric("Answers changed", f"{s.changed:,}", help=f"{s.unchanged:,} unchanged; failed calls not counted")
    refusals = s.refusals_after - s.refusals_before
    cols[2].metric("Refusals", f"{s.refusals_after:,}", f"{refusals:+,} vs before" if refusals else None,
                   delta_color="inverse")  # fmt: skip
    cols[3].metric("Cost", f"${s.cost_after:,.4f}", f"{s.cost_delta:+,.4f} $" if s.cost_pairs else None,
                   delta_color="inverse", help=f"{s.cost_pairs:,} pairs priced on both sides")  # fmt: skip
    latency = s.latency_delta_ms
    cols[4].metric("Avg latency", "—" if s.latency_after_ms is None else f"{s.latency_after_ms:,.0f} ms",
                   None if latency is None else f"{latency:+,.0f} ms", delta_color="inverse")  # fmt: skip
    cols[5].metric("Errors", f"{s.errors:,}", help="Calls that failed or could not be sent (see the error column)")


RUN_COLUMNS = ["call_id", "feature", "model_before", "model_after", "changed", "answer_before", "answer_after",
               "status_after", "refusal_before", "refusal_after", "cost_before", "cost_after", "latency_before",
               "latency_after", "finish_before", "finish_after", "error"]  # fmt: skip


def _run_table(items: pd.DataFrame) -> pd.DataFrame:
    table = items.copy()
    table["changed"] = table["changed"].map({1: "changed", 0: "same"}).fillna("—")
    for column in ("refusal_before", "refusal_after"):
        table[column] = table[column].map({1: "✓", 0: ""}).fillna("—")
    return table


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v if not isinstance(v, str) or len(v) < 60 else v[:57] + '...'}" for k, v in values.items())


def replay_home(store: Store, filters: Filters) -> None:
    """The page without a call: open one by id, run a batch, browse the run history."""
    call_id = st.text_input("Call id", placeholder="Open a call from the Calls page, or paste its id")
    if call_id:
        st.query_params["call"] = call_id.strip()
        st.rerun()
    st.markdown("#### Batch replay")
    batch_form(store, filters)
    st.markdown("#### Runs")
    run_history(store, filters)
