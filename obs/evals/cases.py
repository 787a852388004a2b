"""Eval cases as plain values, and the pure work on them: the input an eval replays, dedupe, labels, undo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from obs.evals.rules import Reason
from obs.records import LLMCall

Status = Literal["candidate", "accepted", "rejected"]
Verdict = Literal["thumbs_up", "thumbs_down"]


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One ``eval_cases`` row: a call waiting in the triage queue, rejected there, or accepted into a dataset."""

    id: int
    call_id: str
    status: Status
    created_at: datetime
    updated_at: datetime
    dataset: str | None = None
    reasons: tuple[Reason, ...] = ()
    expected_output: str | None = None
    labels: tuple[str, ...] = ()
    notes: str | None = None
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    reject_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetCase:
    """An accepted case with what an eval runner needs from its call: the exact input and the original answer."""

    case: EvalCase
    input: tuple[Any, ...]
    tools: Any = None
    original_output: str | None = None
    model: str | None = None
    params: Mapping[str, Any] | None = None
    feature: str | None = None
    prompt_version: str | None = None


@dataclass(frozen=True, slots=True)
class Undo:
    """How to take back one triage action: the case as it was (None: the action created it) and the feedback
    it recorded."""

    action: Literal["accept", "reject", "skip"]
    case_id: int
    before: EvalCase | None = None
    feedback_id: str | None = None
    note: str = field(default="", compare=False)


def parse_labels(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Labels from "billing, tone" (or a list): trimmed, empty ones dropped, each kept once, in order."""
    if text is None:
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for part in parts:
        label = str(part).strip()
        if label and label not in out:
            out.append(label)
    return tuple(out)


def format_labels(labels: Iterable[str]) -> str | None:
    """The stored form of labels (comma-separated), None for none."""
    text = ", ".join(labels)
    return text or None


def input_messages(call: LLMCall) -> tuple[Any, ...]:
    """The full input the model saw as chat messages: a system prompt sent apart (Responses API instructions)
    comes first, a plain-text input becomes one user message."""
    content = call.content
    if content is None:
        return ()
    messages = content.messages
    if messages is None:
        listed: list[Any] = []
    elif isinstance(messages, list):
        listed = list(messages)
    else:
        listed = [{"role": "user", "content": messages}]
    has_system = any(isinstance(m, Mapping) and m.get("role") in {"system", "developer"} for m in listed)
    if content.system_prompt and not has_system:
        listed.insert(0, {"role": "system", "content": content.system_prompt})
    return tuple(listed)


def prefill(call: LLMCall) -> str:
    """The expected output a reviewer starts from: the answer's text, else its tool calls as JSON."""
    content = call.content
    if content is None:
        return ""
    if content.output_text:
        return content.output_text
    if content.tool_calls:
        return json.dumps(content.tool_calls, indent=2, ensure_ascii=False)
    return ""


def input_key(case: DatasetCase) -> str:
    """A fingerprint of what the model saw (messages and tools): two cases with the same key are the same input."""
    canonical = json.dumps([list(case.input), case.tools], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def duplicates(cases: Iterable[DatasetCase]) -> list[int]:
    """Ids of the cases to remove so that each input is kept once (the first reviewed, i.e. lowest id, stays)."""
    seen: set[str] = set()
    extra: list[int] = []
    for item in sorted(cases, key=lambda c: c.case.id):
        key = input_key(item)
        if key in seen:
            extra.append(item.case.id)
        else:
            seen.add(key)
    return extra


@dataclass(frozen=True, slots=True)
class CaseEdit:
    """New expected output, labels and notes for one case."""

    case_id: int
    expected_output: str | None
    labels: tuple[str, ...]
    notes: str | None


def table_edits(cases: Iterable[EvalCase], rows: Iterable[Mapping[Any, Any]]) -> tuple[list[CaseEdit], list[int]]:
    """What a reviewer changed in a dataset's table (rows with ``id``, ``expected_output``, ``labels``,
    ``notes``, ``remove``): the cases whose values changed, and the ids of the cases marked for removal."""
    by_id = {case.id: case for case in cases}
    changed: list[CaseEdit] = []
    removed: list[int] = []
    for row in rows:
        case = by_id.get(int(row["id"]))
        if case is None:
            continue
        if row.get("remove"):
            removed.append(case.id)
            continue
        edit = CaseEdit(case.id, _text(row.get("expected_output")), parse_labels(_text(row.get("labels"))),
                        _text(row.get("notes")))  # fmt: skip
        if (edit.expected_output, edit.labels, edit.notes) != (
            case.expected_output or None,
            case.labels,
            case.notes or None,
        ):
            changed.append(edit)
    return changed, removed


def _text(value: Any) -> str | None:
    """A cell's text: None for empty cells (None, NaN or blank)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return text if text.strip() else None
