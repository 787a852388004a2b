"""A dataset as one file an eval runner reads: JSONL (obs's documented schema, which is also OpenAI evals'
``input`` / ``ideal`` shape) or CSV. Pure: cases in, text out, and JSONL text back into the same cases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from obs.errors import UserError
from obs.evals.cases import DatasetCase

SCHEMA = "obs.eval_case/1"
FORMATS = ("jsonl", "csv")


class ExportFormatError(UserError, ValueError):
    """A file that is not an obs JSONL export (the message names the line)."""


@dataclass(frozen=True)
class ExportedCase:
    """One line of a JSONL export. ``input`` is every message the model saw (system prompt included) and
    ``ideal`` the expected output, the two keys OpenAI evals reads; the rest says where the case came from."""

    dataset: str
    case_id: int
    call_id: str
    input: list[Any]
    ideal: str
    tools: Any = None
    labels: list[str] = field(default_factory=list)
    notes: str | None = None
    model: str | None = None
    params: dict[str, Any] | None = None
    feature: str | None = None
    prompt_version: str | None = None
    original_output: str | None = None
    reasons: list[dict[str, str]] = field(default_factory=list)
    reviewer: str | None = None
    reviewed_at: str | None = None
    schema: str = SCHEMA


def exported(item: DatasetCase) -> ExportedCase:
    """The export line of one dataset case."""
    case = item.case
    return ExportedCase(
        dataset=case.dataset or "",
        case_id=case.id,
        call_id=case.call_id,
        input=list(item.input),
        ideal=case.expected_output or "",
        tools=item.tools,
        labels=list(case.labels),
        notes=case.notes,
        model=item.model,
        params=dict(item.params) if item.params is not None else None,
        feature=item.feature,
        prompt_version=item.prompt_version,
        original_output=item.original_output,
        reasons=[r.as_json() for r in case.reasons],
        reviewer=case.reviewer,
        reviewed_at=_iso(case.reviewed_at),
    )


def to_jsonl(cases: Iterable[DatasetCase]) -> str:
    """One JSON object per line, keys in schema order, UTF-8 text kept as is."""
    lines = [json.dumps(asdict(exported(c)), ensure_ascii=False, default=str) for c in cases]
    return "".join(line + "\n" for line in lines)


def read_jsonl(text: str) -> list[ExportedCase]:
    """The cases of a JSONL export (blank lines are skipped; unknown keys are refused, naming the line)."""
    known = set(ExportedCase.__dataclass_fields__)
    out: list[ExportedCase] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(value, Mapping):
            raise ExportFormatError(f"line {number}: expected a JSON object")
        extra = sorted(set(value) - known)
        if extra:
            raise ExportFormatError(f"line {number}: unknown keys {', '.join(extra)}")
        try:
            out.append(ExportedCase(**value))
        except TypeError as exc:
            raise ExportFormatError(f"line {number}: {exc}") from None
    return out


CSV_COLUMNS = [
    "case_id", "dataset", "call_id", "model", "feature", "prompt_version", "last_user_message", "ideal",
    "original_output", "labels", "notes", "reasons", "reviewer", "reviewed_at", "input", "tools", "params",
]  # fmt: skip


def to_csv(cases: Iterable[DatasetCase]) -> str:
    """One row per case for a spreadsheet; ``input``, ``tools`` and ``params`` hold JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in cases:
        line = exported(item)
        writer.writerow(
            {
                "case_id": line.case_id,
                "dataset": line.dataset,
                "call_id": line.call_id,
                "model": line.model,
                "feature": line.feature,
                "prompt_version": line.prompt_version,
                "last_user_message": last_user_message(line.input),
                "ideal": line.ideal,
                "original_output": line.original_output,
                "labels": "; ".join(line.labels),
                "notes": line.notes,
                "reasons": "; ".join(r["rule"] for r in line.reasons),
                "reviewer": line.reviewer,
                "reviewed_at": line.reviewed_at,
                "input": json.dumps(line.input, ensure_ascii=False, default=str),
                "tools": "" if line.tools is None else json.dumps(line.tools, ensure_ascii=False, default=str),
                "params": "" if line.params is None else json.dumps(line.params, ensure_ascii=False, default=str),
            }
        )
    return out.getvalue()


def render(cases: Iterable[DatasetCase], fmt: str) -> str:
    """The export text in ``fmt`` (jsonl or csv)."""
    if fmt == "jsonl":
        return to_jsonl(cases)
    if fmt == "csv":
        return to_csv(cases)
    raise ExportFormatError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")


def last_user_message(messages: Iterable[Any]) -> str:
    """The text of the last user message (what a spreadsheet reader wants to see first)."""
    text = ""
    for message in messages:
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
            text = "" if content is None else str(content)
    return text


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")
