"""Query results as people read them: headers for people, $ with sensible digits, ms or s, %, "—", ✓; and the
same rows as a CSV that keeps exact values, rounded where a person expects it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

#: Headers for people, by column name (a column not listed: its name with spaces, capitalised).
LABELS = {
    "user_id": "User", "tenant_id": "Tenant", "feature": "Feature", "model": "Model", "prompt_version": "Prompt",
    "calls": "Calls", "spend": "Spend", "cost": "Cost", "cost_usd": "Cost", "avg_cost": "Avg cost",
    "p95_cost": "p95 cost", "unpriced_calls": "Unpriced calls", "p50": "p50", "p95": "p95", "p99": "p99",
    "latency_ms": "Latency", "latency_ms_first_token": "First token", "streamed_calls": "Streamed calls",
    "avg_total_ms": "Avg total",
    "ttft_p50": "First token p50", "ttft_p95": "First token p95",
    "ts": "Time", "status": "Status", "is_refusal": "Refusal", "id": "Call",
    "name": "Name", "dataset": "Dataset", "cases": "Cases", "created_at": "Created", "finished_at": "Finished",
    "provider": "Provider", "changed": "Changed", "errors": "Errors", "refusals": "Refusals", "items": "Calls",
    "error_rate": "Error rate", "refusal_rate": "Refusal rate", "kind": "Kind", "label": "Step",
    "start_ms": "Starts at", "duration_ms": "Duration", "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Completion tokens", "reviewers": "Reviewers", "last_ts": "Last change",
    "call_id": "Call", "output_preview": "Answer", "finish_reason": "Finish", "temperature": "Temperature",
}  # fmt: skip
#: Columns holding dollars, milliseconds, rates (0..1): shown with their unit, rounded in a CSV to these digits.
MONEY = frozenset({"spend", "cost", "cost_usd", "avg_cost", "p95_cost", "cost_before", "cost_after"})
MS = frozenset({"p50", "p95", "p99", "latency_ms", "latency_ms_first_token", "avg_total_ms", "start_ms",
                "duration_ms", "latency_before", "latency_after", "ttft_p50", "ttft_p95", "ttft_p99"})  # fmt: skip
RATE_SUFFIX = "_rate"
CSV_DIGITS = {"money": 8, "ms": 1, "rate": 4}
TIME_FORMAT = "MMM D, HH:mm"


def money(value: Any) -> str:
    """Dollars with the digits a call's cost needs: $0.0012, $0.35, $12.40; "unpriced" for none."""
    if value is None or pd.isna(value):
        return "unpriced"
    number = float(value)
    return f"${number:,.2f}" if number >= 1 else f"${number:.4f}" if number >= 0.0001 else f"${number:.6f}"


def duration(ms: Any) -> str:
    """Milliseconds under a second, else seconds: "850 ms", "12.3 s"; "—" for none."""
    if ms is None or pd.isna(ms):
        return "—"
    return f"{round(float(ms)):,} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


def percent(rate: Any) -> str:
    return "—" if rate is None or pd.isna(rate) else f"{float(rate):.1%}"


def first_words(text: Any, length: int = 80) -> str:
    """The first words of a text on one line, cut at a word with " …"; "—" for none."""
    if not isinstance(text, str) or not text.strip():
        return "—"
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rsplit(" ", 1)[0] + " …"


def unit(column: str) -> str | None:
    """ "money", "ms" or "rate" for a column of dollars, milliseconds or a rate (by its name); else None."""
    if column in MONEY:
        return "money"
    if column in MS:
        return "ms"
    return "rate" if column.endswith(RATE_SUFFIX) else None


_FORMATS = {"money": money, "ms": duration, "rate": percent}


def label(column: str) -> str:
    return LABELS.get(column) or column.replace("_", " ").capitalize()


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy as people read it: money, durations and rates as text with their unit, booleans as ✓ or nothing,
    "—" for nothing. Counts and times stay numbers and times (they sort and format themselves)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        kind = unit(column)
        if kind is not None:
            out[column] = values.map(_FORMATS[kind])
        elif values.dtype == bool or column.startswith("is_"):
            out[column] = values.map(lambda v: "✓" if v is True or (v is not None and not pd.isna(v) and v) else "")
        elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[column] = values.map(lambda v: "—" if v is None or (not isinstance(v, str | list) and pd.isna(v))
                                     else v)  # fmt: skip
    return out


def config(frame: pd.DataFrame, **overrides: Any) -> dict[str, Any]:
    """Column settings for a readable frame: every header for people, times formatted, counts localized."""
    settings: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            settings[column] = st.column_config.DatetimeColumn(label(column), format=TIME_FORMAT)
        elif pd.api.types.is_integer_dtype(values) and unit(column) is None:
            settings[column] = st.column_config.NumberColumn(label(column), format="localized")
        else:
            settings[column] = label(column)
    return settings | overrides


def show(frame: pd.DataFrame, *, csv: str | None = None, key: str | None = None, order: list[str] | None = None,
         pick: bool = False, **overrides: Any) -> Any:  # fmt: skip
    """The frame as a readable table (``order``: which columns, in order; ``pick``: a row can be selected, the
    selection event is returned), and with ``csv`` a download of it."""
    shown = readable(frame)
    picking: dict[str, Any] = {"on_select": "rerun", "selection_mode": "single-row", "key": key} if pick else {}
    event = st.dataframe(shown, hide_index=True, width="stretch", column_order=order,
                         column_config=config(shown, **overrides), **picking)  # fmt: skip
    if csv is not None:
        st.download_button("Download CSV", csv_text(frame), csv, "text/csv", key=f"csv-{key or csv}")
    return event


def csv_text(frame: pd.DataFrame) -> str:
    """The rows as CSV with exact values, rounded where a person expects it: dollars to 8 digits (0.049861, not
    0.04986099999999999), milliseconds to 0.1, rates to 4 digits."""
    out = frame.copy()
    for column in out.columns:
        kind = unit(column)
        if kind and pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].round(CSV_DIGITS[kind])
    return str(out.to_csv(index=False))
