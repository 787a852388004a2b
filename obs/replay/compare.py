"""Comparing a call with its replay, and a whole replay run: pure code over records, no I/O.

The word diff comes from the standard library (difflib) over words and the whitespace between them; changes
separated only by whitespace are merged into one, and joining the pieces of either side gives back its text.
"""

from __future__ import annotations

import difflib
import json
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from obs.records import LLMCall

Op = Literal["equal", "delete", "insert"]
_TOKENS = re.compile(r"\s+|\S+")
#: Below this similarity (difflib's ratio) two answers are shown as one removal and one addition.
REWRITE_RATIO = 0.3


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text that is in both answers (equal), only in the original (delete) or only in the replay."""

    op: Op
    text: str


def word_diff(before: str, after: str) -> tuple[Piece, ...]:
    """Word-level diff: equal / delete / insert pieces in reading order (a change is a delete then an insert)."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if before and after and matcher.ratio() < REWRITE_RATIO:  # a rewrite: a few shared words would only confuse
        return (Piece("delete", before), Piece("insert", after))
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("insert", "".join(b[j1:j2])))
    return _merged(pieces)


def _merged(pieces: list[Piece]) -> tuple[Piece, ...]:
    """One deletion and one insertion per changed stretch (a space both answers share does not split it)."""
    spread: list[Piece] = []
    for i, piece in enumerate(pieces):
        inside = 0 < i < len(pieces) - 1 and pieces[i - 1].op != "equal" and pieces[i + 1].op != "equal"
        if piece.op == "equal" and inside and not piece.text.strip():
            spread += [Piece("delete", piece.text), Piece("insert", piece.text)]
        else:
            spread.append(piece)
    out: list[Piece] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for piece in [*spread, Piece("equal", "")]:
        if piece.op == "delete":
            deleted.append(piece.text)
        elif piece.op == "insert":
            inserted.append(piece.text)
        else:
            out += [Piece("delete", "".join(deleted))] if deleted else []
            out += [Piece("insert", "".join(inserted))] if inserted else []
            deleted, inserted = [], []
            out += [piece] if piece.text else []
    return tuple(out)


def tool_signature(tool_calls: Any) -> tuple[tuple[str, str], ...]:
    """Tool calls as (name, canonical JSON arguments); provider-made call ids are left out on purpose."""
    out: list[tuple[str, str]] = []
    for call in tool_calls or ():
        if not isinstance(call, dict):
            continue
        nested = call.get("function")
        function: dict[str, Any] = nested if isinstance(nested, dict) else call
        name = str(function.get("name") or "")
        arguments = function.get("arguments")
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            canonical = json.dumps(parsed, sort_keys=True)
        except (TypeError, ValueError):
            canonical = str(arguments)
        out.append((name, canonical))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ToolCallChange:
    """A tool call that only the original made ("removed") or only the replay made ("added")."""

    change: Literal["removed", "added"]
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """An original call and its replay, side by side."""

    original: LLMCall
    replay: LLMCall
    text_before: str
    text_after: str
    pieces: tuple[Piece, ...]
    tool_changes: tuple[ToolCallChange, ...]

    @property
    def text_changed(self) -> bool:
        return self.text_before != self.text_after

    @property
    def changed(self) -> bool:
        """Whether the answer differs: its text, its tool calls, or whether it failed."""
        return self.text_changed or bool(self.tool_changes) or self.original.status != self.replay.status

    @property
    def finish_reason_changed(self) -> bool:
        return self.original.finish_reason != self.replay.finish_reason

    def delta(self, field: str) -> float | None:
        """replay - original for a numeric field (tokens, cost_usd, latency_ms); None when either is missing."""
        before, after = getattr(self.original, field), getattr(self.replay, field)
        if before is None or after is None:
            return None
        return float(after) - float(before)


def compare(original: LLMCall, replay: LLMCall) -> Comparison:
    """Compare a call with its replay: word diff of the answers, tool-call changes; deltas on demand."""
    before, after = _answer(original), _answer(replay)
    old, new = tool_signature(_tool_calls(original)), tool_signature(_tool_calls(replay))
    changes = [ToolCallChange("removed", n, a) for n, a in _minus(old, new)]
    changes += [ToolCallChange("added", n, a) for n, a in _minus(new, old)]
    return Comparison(original, replay, before, after, word_diff(before, after), tuple(changes))


def _answer(call: LLMCall) -> str:
    return (call.content.output_text if call.content else None) or ""


def _tool_calls(call: LLMCall) -> Any:
    return call.content.tool_calls if call.content else None


def _minus(a: Sequence[tuple[str, str]], b: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    rest = list(b)
    out = []
    for item in a:
        if item in rest:
            rest.remove(item)
        else:
            out.append(item)
    return out


# --- a run ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunItem:
    """One call of a run: its original, its replay (None when it could not be sent), and why not."""

    original: LLMCall
    replay: LLMCall | None
    error: str | None = None

    @property
    def comparison(self) -> Comparison | None:
        return compare(self.original, self.replay) if self.replay is not None else None

    @property
    def failed(self) -> bool:
        return self.replay is None or self.replay.status == "error"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a replay run changed. Cost and latency totals cover only the pairs where both sides have a value."""

    calls: int
    replayed: int
    errors: int
    changed: int
    unchanged: int
    refusals_before: int
    refusals_after: int
    cost_before: float
    cost_after: float
    cost_pairs: int
    latency_before_ms: float | None
    latency_after_ms: float | None

    @property
    def cost_delta(self) -> float:
        return self.cost_after - self.cost_before

    @property
    def latency_delta_ms(self) -> float | None:
        if self.latency_before_ms is None or self.latency_after_ms is None:
            return None
        return self.latency_after_ms - self.latency_before_ms

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        values: dict[str, Any] = {name: data.get(name) for name in cls.__slots__}
        return cls(**values)


def summarize(items: Iterable[RunItem]) -> RunSummary:
    """Answers changed / unchanged (among pairs that both succeeded), refusals, errors, cost and latency deltas."""
    items = list(items)
    ok = [i for i in items if not i.failed and i.original.status == "ok"]
    changed = sum(1 for i in ok if i.comparison is not None and i.comparison.changed)
    priced = [i for i in ok if i.original.cost_usd is not None and i.replay and i.replay.cost_usd is not None]
    timed = [i for i in ok if i.original.latency_ms is not None and i.replay and i.replay.latency_ms is not None]
    return RunSummary(
        calls=len(items),
        replayed=sum(1 for i in items if not i.failed),
        errors=sum(1 for i in items if i.failed),
        changed=changed,
        unchanged=len(ok) - changed,
        refusals_before=sum(1 for i in ok if i.original.is_refusal),
        refusals_after=sum(1 for i in ok if i.replay is not None and i.replay.is_refusal),
        cost_before=float(sum((i.original.cost_usd or Decimal(0) for i in priced), Decimal(0))),
        cost_after=float(sum((i.replay.cost_usd or Decimal(0) for i in priced if i.replay), Decimal(0))),
        cost_pairs=len(priced),
        latency_before_ms=statistics.fmean(i.original.latency_ms or 0 for i in timed) if timed else None,
        latency_after_ms=statistics.fmean(i.replay.latency_ms or 0 for i in timed if i.replay) if timed else None,
    )
