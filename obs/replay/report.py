"""Replays as text for the terminal: a comparison side by side, a run's summary. Pure formatting, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from obs.replay.compare import Comparison, Piece, RunSummary

#: How insertions and deletions look in a word diff (git's --word-diff=plain markers, coloured on a terminal).
DELETE_MARKS = ("[-", "-]")
INSERT_MARKS = ("{+", "+}")

Style = Callable[..., str]


def _plain(text: str, **_: Any) -> str:
    return text


def diff_text(pieces: tuple[Piece, ...], style: Style = _plain) -> str:
    """The word diff as one text: ``[-removed-]`` and ``{+added+}`` (red and green when ``style`` colours)."""
    out = []
    for piece in pieces:
        if piece.op == "delete":
            out.append(style(DELETE_MARKS[0] + piece.text + DELETE_MARKS[1], fg="red"))
        elif piece.op == "insert":
            out.append(style(INSERT_MARKS[0] + piece.text + INSERT_MARKS[1], fg="green"))
        else:
            out.append(piece.text)
    return "".join(out)


def comparison_lines(c: Comparison, style: Style = _plain) -> list[str]:
    """A replay against its original: the answer's word diff, tool-call changes, then a table of deltas."""
    o, r = c.original, c.replay
    lines = []
    if r.status == "error":
        lines.append(style(f"replay failed: {r.error}", fg="red"))
    if not c.text_changed:
        lines.append("answer: unchanged" + (f"\n  {c.text_before}" if c.text_before else " (no text)"))
    else:
        lines.append("answer: changed ([-original-] {+replay+})")
        lines += ["  " + line for line in diff_text(c.pieces, style).splitlines() or [""]]
    if c.tool_changes:
        lines.append("tool calls:")
        for change in c.tool_changes:
            mark = "-" if change.change == "removed" else "+"
            colour = "red" if change.change == "removed" else "green"
            lines.append(style(f"  {mark} {change.name}({change.arguments})", fg=colour))
    elif (o.content and o.content.tool_calls) or (r.content and r.content.tool_calls):
        lines.append("tool calls: unchanged (same names and arguments)")
    rows = [
        ("", "original", "replay", "change"),
        ("model", o.model, r.model, ""),
        ("status", o.status, r.status, ""),
        ("finish reason", o.finish_reason or "-", r.finish_reason or "-", ""),
        ("refusal", _yes(o.is_refusal), _yes(r.is_refusal), ""),
        ("prompt tokens", _int(o.prompt_tokens), _int(r.prompt_tokens), _signed(c.delta("prompt_tokens"), "{:+,.0f}")),
        ("completion tokens", _int(o.completion_tokens), _int(r.completion_tokens),
         _signed(c.delta("completion_tokens"), "{:+,.0f}")),
        ("cost", _money(o.cost_usd), _money(r.cost_usd), _signed(c.delta("cost_usd"), "{:+,.6f}", "$")),
        ("latency", _ms(o.latency_ms), _ms(r.latency_ms), _signed(c.delta("latency_ms"), "{:+,.0f}", suffix=" ms")),
    ]  # fmt: skip
    lines.append("")
    lines += [f"{a:<18} {b:<22} {c_:<22} {d}".rstrip() for a, b, c_, d in rows]
    return lines


def summary_lines(s: RunSummary) -> list[str]:
    """A run's summary: answers changed, refusals before and after, errors, cost and latency deltas."""
    cost = f"${s.cost_before:,.6f} -> ${s.cost_after:,.6f} ({_signed(s.cost_delta, '{:+,.6f}', '$')}"
    cost += f", {s.cost_pairs:,} priced pairs)"
    if s.latency_before_ms is None or s.latency_after_ms is None:
        latency = "-"
    else:
        latency = f"avg {s.latency_before_ms:,.0f} ms -> {s.latency_after_ms:,.0f} ms"
        latency += f" ({_signed(s.latency_delta_ms, '{:+,.0f}', suffix=' ms')})"
    return [
        f"calls      {s.calls:,} ({s.replayed:,} replayed, {s.errors:,} errors)",
        f"answers    {s.changed:,} changed, {s.unchanged:,} unchanged",
        f"refusals   {s.refusals_before:,} before, {s.refusals_after:,} after",
        f"cost       {cost}",
        f"latency    {latency}",
    ]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _money(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"${value:,.6f}"


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value:,} ms"


def _signed(value: float | None, fmt: str, prefix: str = "", suffix: str = "") -> str:
    if value is None:
        return ""
    text = fmt.format(value)
    return text[0] + prefix + text[1:] + suffix
