"""Rendering records: KPI tiles, one call exactly as the model saw it, a trace as a tree and a waterfall."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd
import streamlit as st

from obs.records import LLMCall, Span, Trace, cost_state
from obs.ui import charts, tables
from obs.ui.state import Filters, query

CALLS_PAGE = "pages/3_Calls.py"
#: Tiles show a change only when the previous window had at least this many calls.
MIN_CALLS_FOR_CHANGE = 20
TRACE_PAGE = "pages/4_Trace.py"
TRIAGE_PAGE = "pages/6_Triage.py"
REPLAY_PAGE = "pages/5_Replay.py"


# --- overview ----------------------------------------------------------------------------------------


def kpi_tiles(filters: Filters) -> dict[str, Any]:
    """Tiles for the window, each with its change against the previous window of the same length."""
    now: dict[str, Any] = {str(k): v for k, v in query("overview_kpis", filters).iloc[0].items()}
    before: dict[str, Any] = {str(k): v for k, v in query("overview_kpis", filters.previous()).iloc[0].items()}
    if (before["calls"] or 0) < MIN_CALLS_FOR_CHANGE:  # a near-empty previous window makes silly percentages
        before = dict.fromkeys(before)
    tiles: list[tuple[str, str, Callable[[Any], str], Literal["normal", "inverse"]]] = [
        ("Calls", "calls", lambda v: f"{int(v or 0):,}", "normal"),
        ("Spend", "spend", lambda v: "—" if pd.isna(v) else f"${v:,.2f}", "inverse"),
        ("p95 latency", "p95_latency_ms", lambda v: "—" if pd.isna(v) else f"{v / 1000:,.2f} s", "inverse"),
        ("Error rate", "error_rate", _pct, "inverse"),
        ("Refusal rate", "refusal_rate", _pct, "inverse"),
        ("Thumbs-down rate", "thumbs_down_rate", _pct, "inverse"),
        ("Unpriced calls", "unpriced_calls", lambda v: f"{int(v or 0):,}", "inverse"),
    ]
    columns = st.columns(len(tiles))
    for column, (label, key, fmt, colour) in zip(columns, tiles, strict=True):
        column.metric(label, fmt(now[key]), _delta(now[key], before[key], key), delta_color=colour)
    return now


def _pct(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def _delta(now: Any, before: Any, key: str) -> str | None:
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if key.endswith("_rate"):
        return f"{(now - before) * 100:+.1f} pts"
    if not before:
        return None
    return f"{(now - before) / before:+.0%}"


#: Series a chart's click carries that are filters of the Calls page, with the word its link uses for each.
SERIES_FILTERS = {"feature": "feature", "model": "model", "prompt_version": "prompt"}


def drilldown(event: Any, filters: Filters) -> None:
    """When a chart's point or bar is clicked, link to the calls of its bucket and series (same filters otherwise)."""
    selection = getattr(event, "selection", None) or (event.get("selection") if isinstance(event, dict) else None)
    points = (selection or {}).get(charts.BUCKET_SELECTION) or []
    link = calls_link(points[0], filters) if points else None
    if link is not None:
        label, params = link
        st.page_link(CALLS_PAGE, label=label, query_params=params)


def calls_link(point: Mapping[str, Any], filters: Filters) -> tuple[str, dict[str, str]] | None:
    """A clicked point's link to the Calls page: its label and URL parameters (the bucket and the point's series
    as filters, the other filters kept); None when the point names no bucket."""
    field = next((f for f in charts.BUCKET_FIELDS if point.get(f) is not None), None)
    if field is None:
        return None
    value = point[field]
    picked = pd.Timestamp(value, unit="ms", tz="UTC") if isinstance(value, int | float) else pd.Timestamp(value)
    picked = picked.tz_localize("UTC") if picked.tzinfo is None else picked.tz_convert("UTC")
    hourly = charts.BUCKET_FIELDS[field] == "hour"
    start = picked.to_pydatetime()
    end = start + (timedelta(hours=1) if hourly else timedelta(days=1))
    # A missing feature or prompt version ("(none)" on the chart) is no filter the Calls page has: left out.
    series = {k: str(v) for k in SERIES_FILTERS if (v := point.get(k)) is not None and v != charts.NONE}
    params = filters.url_params() | {"window": "custom", "start": start.isoformat(), "end": end.isoformat()} | series
    when = f"{start:%b %d %H:%M}–{end:%H:%M} UTC" if hourly else f"{start:%b %d} (UTC day)"
    label = " · ".join([f"Open the calls of {when}", *(f"{SERIES_FILTERS[k]} {v}" for k, v in series.items())])
    return f"{label} →", params


# --- one call ----------------------------------------------------------------------------------------


ROLE_AVATARS = {"system": "⚙️", "developer": "⚙️", "user": "user", "assistant": "assistant", "tool": "🛠️"}


def cost_text(call: LLMCall) -> str:
    """The call's cost as its detail line says it: dollars, unpriced (never $0), or none for lack of usage."""
    state = cost_state(call)
    if state == "priced":
        return f"cost **${call.cost_usd:.6f}**"
    if state == "no_usage":
        return "**no cost** (failed before any usage)"
    if call.prompt_tokens is None and call.completion_tokens is None:
        return "cost **unpriced** (no usage reported; not $0)"
    return "cost **unpriced** (no known price; not $0)"


def call_detail(call: LLMCall, filters: Filters, *, narrow: bool = False) -> None:
    """The exact call: every message the model saw, what it answered, tokens, cost, timing, errors, links.
    ``narrow``: for a column beside other widgets (the numbers go on two rows so none is cut off)."""
    st.subheader(f"Call `{call.id}`")
    who = " · ".join(
        f"{label} **{value}**"
        for label, value in [
            ("feature", call.feature), ("user", call.user_id), ("tenant", call.tenant_id),
            ("prompt", call.prompt_version), ("source", call.source),
        ]
        if value
    )  # fmt: skip
    st.markdown(f"{_when(call.ts)} · model **{call.model}** → `{call.response_model or '—'}` · {who}")
    cols = st.columns(6) if not narrow else [*st.columns(3), *st.columns(3)]
    cols[0].metric("Prompt tokens", _num(call.prompt_tokens), help="Including cached tokens")
    cols[1].metric("Cached", _num(call.cached_tokens), help="Prompt tokens read from the provider's prompt cache")
    cols[2].metric("Completion", _num(call.completion_tokens), help="Including reasoning tokens")
    cols[3].metric("Reasoning", _num(call.reasoning_tokens))
    cols[4].metric("First token", "—" if call.latency_ms_first_token is None else f"{call.latency_ms_first_token:,} ms")
    cols[5].metric("Latency", "—" if call.latency_ms is None else f"{call.latency_ms:,} ms")
    facts = [
        cost_text(call),
        f"status **{call.status}**",
        f"finish reason **{call.finish_reason or '—'}**",
        f"streamed **{'yes' if call.stream else 'no'}**",
        f"refusal **{'yes' if call.is_refusal else 'no'}**",
        *([f"written to the prompt cache **{call.cache_write_tokens:,}** tokens"] if call.cache_write_tokens else []),
        f"feedback **{call.user_feedback or '—'}**",
        f"content **{call.content_state}**" + (f" (policy `{call.privacy_policy}`)" if call.privacy_policy else ""),
    ]
    st.markdown(" · ".join(facts))
    if call.error:
        st.error(
            f"{call.error_type}: {call.error}" if call.error_type and call.error_type not in call.error else call.error
        )
    links = st.columns(3)
    links[0].page_link(TRACE_PAGE, label="Open its trace →", query_params=filters.url_params(trace=call.trace_id))
    links[1].page_link(REPLAY_PAGE, label="Replay this call →", query_params=filters.url_params(call=call.id))
    links[2].page_link(TRIAGE_PAGE, label="Add to eval set →", query_params=filters.url_params(call=call.id))
    content = call.content
    if content is None:
        st.info(f"No content stored for this call (content state: {call.content_state}).")
        return
    st.markdown("#### What the model saw")
    messages = content.messages if isinstance(content.messages, list) else None
    in_messages = any(isinstance(m, dict) and m.get("role") in {"system", "developer"} for m in messages or ())
    if content.system_prompt and not in_messages:  # the Responses API's instructions, Anthropic's system
        with st.chat_message("⚙️"):
            st.caption("system")
            st.text(content.system_prompt, wrap=True)
    if messages is not None:
        for message in messages:
            _message(message)
    elif content.messages is not None:
        with st.chat_message("user"):
            st.text(_text(content.messages), wrap=True)
    st.markdown("#### What it answered")
    with st.chat_message("assistant"):
        if content.output_text:
            st.text(content.output_text, wrap=True)
        if content.tool_calls:
            tool_calls(content.tool_calls)
        if not content.output_text and not content.tool_calls:
            st.caption("(no text)")
    if content.tools:
        with st.expander("Tools offered"):
            st.json(content.tools)
    with st.expander("Request parameters"):
        st.json(call.params or {})
    with st.expander("Full response"):
        st.json(content.response or {})
    if call.metadata:
        with st.expander("Metadata"):
            st.json(dict(call.metadata))


def _message(message: Any) -> None:
    if not isinstance(message, dict):
        with st.chat_message("user"):
            st.text(_text(message), wrap=True)
        return
    role = str(message.get("role", "user"))
    with st.chat_message(ROLE_AVATARS.get(role, "user")):
        st.caption(role + (f" · {message['name']}" if message.get("name") else ""))
        text = _text(message.get("content"))
        if text:
            st.text(text, wrap=True)  # exactly as sent: no markdown rendering, whitespace kept
        if message.get("tool_calls"):
            tool_calls(message["tool_calls"])


def tool_calls(calls: Any) -> None:
    """Tool calls as code people read, ``route_ticket(team="billing")``, with their JSON on demand."""
    listed = calls if isinstance(calls, list) else [calls]
    st.caption("Tool calls")
    st.code("\n".join(tool_signature(call) for call in listed), language="python", wrap_lines=True)
    with st.expander("Tool calls as JSON"):
        st.json(calls)


def tool_signature(call: Any) -> str:
    """One tool call as ``name(key="value", n=2)``, from the Chat Completions, Responses or Anthropic shape."""
    if not isinstance(call, dict):
        return json.dumps(call)
    inner = call.get("function")
    function: dict[str, Any] = inner if isinstance(inner, dict) else call
    name = function.get("name") or call.get("type") or "tool"
    arguments = function.get("arguments", function.get("input"))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return f"{name}({arguments})"  # not JSON (a truncated stream): as sent
    if isinstance(arguments, dict):
        return f"{name}(" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items()) + ")"
    return f"{name}()" if arguments is None else f"{name}({json.dumps(arguments, ensure_ascii=False)})"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") in {"image_url", "image"}:
                parts.append("*(image)*")
            else:
                parts.append(json.dumps(part)[:500])
        return "\n\n".join(parts)
    return "" if content is None else json.dumps(content)[:2000]


# --- a trace -----------------------------------------------------------------------------------------


def trace_steps(trace: Trace) -> pd.DataFrame:
    """Calls and spans of a trace as rows in tree order, with depth and times relative to the first start."""
    nodes: dict[str, dict[str, Any]] = {}
    for span in trace.spans:
        nodes[span.id] = _node(span.id, span.parent_id, span.kind, span.name, span.start_ts, span.latency_ms, span)
    for call in trace.calls:
        label = f"{call.feature or 'llm'} · {call.model}"
        nodes[call.id] = _node(call.id, call.parent_id, "llm", label, call.ts, call.latency_ms, call)
    children: dict[str | None, list[str]] = {}
    for node in nodes.values():
        parent = node["parent_id"] if node["parent_id"] in nodes else None
        children.setdefault(parent, []).append(node["id"])
    order: list[tuple[str, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for node_id in sorted(children.get(parent, []), key=lambda i: nodes[i]["start"]):
            order.append((node_id, depth))
            walk(node_id, depth + 1)

    walk(None, 0)
    if not order:
        return pd.DataFrame()
    origin = min(nodes[i]["start"] for i, _ in order)
    rows: list[dict[str, Any]] = []
    for node_id, depth in order:
        node = nodes[node_id]
        start_ms = (node["start"] - origin).total_seconds() * 1000
        duration = float(node["duration_ms"] or 0)
        label = f"{len(rows) + 1}. " + "↳ " * depth + node["label"]
        end_ms = start_ms + max(duration, 1)
        rows.append(
            node | {"depth": depth, "start_ms": start_ms, "end_ms": end_ms, "duration_ms": duration, "label": label}
        )
    return pd.DataFrame(rows)


def _node(
    node_id: str, parent: str | None, kind: str, label: str, start: datetime, duration: int | None, record: Any
) -> dict[str, Any]:
    is_call = isinstance(record, LLMCall)
    return {
        "id": node_id,
        "parent_id": parent,
        "kind": kind,
        "label": label,
        "start": start,
        "duration_ms": duration,
        "status": record.status,
        "cost_usd": float(record.cost_usd) if is_call and record.cost_usd is not None else None,
        "prompt_tokens": record.prompt_tokens if is_call else None,
        "completion_tokens": record.completion_tokens if is_call else None,
    }


def trace_view(trace: Trace, filters: Filters) -> None:
    """The tree of calls and spans, a waterfall, totals, retrieved chunks, and a link into each call."""
    steps = trace_steps(trace)
    root = next((s for s in trace.spans if s.parent_id is None), None)
    st.subheader(f"Trace `{trace.trace_id}`" + (f" · {root.name}" if root else ""))
    total_ms = float(steps["end_ms"].max() - steps["start_ms"].min()) if not steps.empty else 0.0
    cost = sum(float(c.cost_usd) for c in trace.calls if c.cost_usd is not None)
    unpriced = sum(1 for c in trace.calls if cost_state(c) == "unpriced")
    cols = st.columns(5)
    cols[0].metric("LLM calls", len(trace.calls))
    cols[1].metric("Spans", len(trace.spans))
    cols[2].metric("Total cost", f"${cost:.6f}" + (f" (+{unpriced} unpriced)" if unpriced else ""))
    cols[3].metric("Tokens", f"{sum((c.prompt_tokens or 0) + (c.completion_tokens or 0) for c in trace.calls):,}")
    cols[4].metric("Duration", f"{total_ms:,.0f} ms")
    if root is not None:
        who = [f"{k} **{v}**" for k, v in (("user", root.user_id), ("tenant", root.tenant_id),
                                             ("feature", root.feature)) if v]  # fmt: skip
        st.markdown(f"{_when(root.start_ts)} · " + " · ".join(who))
    st.altair_chart(charts.waterfall(steps), width="stretch")
    table = steps[["label", "kind", "status", "start_ms", "duration_ms", "cost_usd", "prompt_tokens",
                   "completion_tokens"]]  # fmt: skip
    tables.show(table)
    for call in trace.calls:
        label = f"Open call {call.id} · {call.feature or ''} · {call.model} · {call.latency_ms or 0:,} ms"
        st.page_link(CALLS_PAGE, label=label, query_params=filters.url_params(call=call.id))
    for span in trace.spans:
        _span_details(span)


def _span_details(span: Span) -> None:
    if span.kind == "trace" and span.output is None:
        return
    with st.expander(f"{span.kind} · {span.name} · {span.latency_ms or 0:,} ms", expanded=span.kind == "retrieval"):
        if span.error:
            st.error(span.error)
        if span.input is not None:
            st.caption("Input")
            st.json(span.input)
        if span.kind == "retrieval" and isinstance(span.output, list):
            st.caption(f"Retrieved {len(span.output)} chunks")
            for i, chunk in enumerate(span.output, 1):
                text = chunk.get("text") if isinstance(chunk, dict) else chunk
                source = chunk.get("doc") if isinstance(chunk, dict) else None
                st.markdown(f"**{i}.** " + (f"`{source}` " if source else "") + str(text))
        elif span.output is not None:
            st.caption("Output")
            st.json(span.output) if not isinstance(span.output, str) else st.markdown(span.output)


def _when(ts: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S} UTC"


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
