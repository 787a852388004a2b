"""Records <-> rows. Writing encodes straight to what each driver takes (the fast path); reading decodes rows.

The write path bypasses SQLAlchemy's per-row bind processing: JSON columns are serialized once with the C
encoder (``to_jsonable`` only when that fails), timestamps become UTC (fixed-width text on SQLite), and on
PostgreSQL NUL characters, which text and JSONB refuse, are replaced by U+FFFD.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa

from obs.records import CallContent, Feedback, LLMCall, Span
from obs.schema import Json, Money, UtcTimestamp, feedback, llm_call_content, llm_calls, spans, sqlite_text, to_utc
from obs.serialize import PlainJson, RawJson, clean_text, to_jsonable

CONTENT_FIELDS = tuple(f.name for f in dataclasses.fields(CallContent))
CALL_FIELDS = tuple(f.name for f in dataclasses.fields(LLMCall) if f.name != "content")

# PostgreSQL refuses \u0000 in JSONB; an escaped backslash before "u0000" is text, not a NUL.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")

Encoder = Callable[[Any], Any]

#: One encoder, made once (json.dumps builds a new one per call when given options): NaN is refused so that
#: ``to_jsonable`` can mark it; cycles end in RecursionError, which falls back the same way.
_STRICT_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False).encode


def encode_json(value: Any, dialect: str, *, provider_output: bool = False) -> str | None:
    """JSON text for a JSON column: a fast encoder first, the tolerant converter when it fails.

    ``provider_output``: values that came out of a provider SDK's own JSON dump (pydantic already turned any
    NaN into null), encoded with orjson (~10x faster). Anything else goes through the standard encoder, which
    refuses NaN so that ``to_jsonable`` can mark it instead of silently storing null.
    """
    if value is None:
        return None
    try:
        if isinstance(value, RawJson):
            text = str(value)
        elif provider_output or type(value) is PlainJson:
            text = orjson.dumps(value).decode()
        else:
            text = _STRICT_JSON(value)
    except (TypeError, ValueError, RecursionError, orjson.JSONEncodeError):
        text = json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)
    text = clean_text(text)
    if dialect == "postgresql" and "\\u0000" in text:
        text = _JSON_NUL.sub(r"\1\\ufffd", text)
    return text


#: Columns that hold what the provider's SDK returned (dumped by pydantic), not values the app made up.
_PROVIDER_OUTPUT = frozenset({("llm_call_content", "response"), ("llm_call_content", "tool_calls")})


def _encoder(column: sa.Column[Any], dialect: str) -> Encoder:
    kind = column.type
    if kind is Json or isinstance(kind, sa.JSON) or isinstance(getattr(kind, "impl", None), sa.JSON):
        trusted = (column.table.name, column.name) in _PROVIDER_OUTPUT
        return lambda v: encode_json(v, dialect, provider_output=trusted)
    if isinstance(kind, UtcTimestamp):
        return _sqlite_time if dialect == "sqlite" else _aware
    if kind is Money or isinstance(kind, sa.Numeric):
        return (lambda v: None if v is None else float(v)) if dialect == "sqlite" else _same
    if isinstance(kind, sa.Boolean):
        return (lambda v: None if v is None else int(v)) if dialect == "sqlite" else _same
    if dialect == "postgresql" and isinstance(kind, sa.Text):
        return lambda v: v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v
    return _same


def _same(value: Any) -> Any:
    return value


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else sqlite_text(value)


@dataclasses.dataclass(frozen=True)
class TableCodec:
    """How one table's records become driver rows for one dialect."""

    table: sa.Table
    columns: tuple[str, ...]
    #: (position, encoder) for the columns whose values need encoding; the rest pass through as they are.
    encoders: tuple[tuple[int, Encoder], ...]
    getter: Callable[[Any], tuple[Any, ...]]

    @classmethod
    def build(cls, table: sa.Table, dialect: str, fields: Sequence[str] | None = None) -> TableCodec:
        """``fields``: the record attribute for each column (default: the column names)."""
        columns = tuple(c.name for c in table.columns if not (c.primary_key and c.autoincrement is True))
        encoders = tuple(
            (i, encoder) for i, name in enumerate(columns) if (encoder := _encoder(table.c[name], dialect)) is not _same
        )
        getter = operator.attrgetter(*(fields or columns))
        return cls(table, columns, encoders, getter)

    def row(self, record: Any) -> tuple[Any, ...]:
        """The driver row for a record (one C-level attribute fetch, then only the columns that need it)."""
        values = list(self.getter(record))
        for i, encode in self.encoders:
            values[i] = encode(values[i])
        return tuple(values)


class Codecs:
    """The codecs of the tables obs writes in batches, for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.calls = TableCodec.build(llm_calls, dialect)
        content_fields = ["id" if name == "call_id" else f"content.{name}" for name in _columns(llm_call_content)]
        self.content = TableCodec.build(llm_call_content, dialect, content_fields)
        self.spans = TableCodec.build(spans, dialect)
        self.feedback = TableCodec.build(feedback, dialect)

    def call_row(self, call: LLMCall) -> tuple[Any, ...]:
        return self.calls.row(call)

    def content_row(self, call: LLMCall) -> tuple[Any, ...]:
        return self.content.row(call)

    def span_row(self, span: Span) -> tuple[Any, ...]:
        return self.spans.row(span)

    def feedback_row(self, item: Feedback) -> tuple[Any, ...]:
        return self.feedback.row(item)


@dataclasses.dataclass(slots=True)
class EncodedBatch:
    """Rows ready for the driver, encoded ahead of the transaction that writes them."""

    calls: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    contents: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    spans: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    feedback: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    call_ids: list[str] = dataclasses.field(default_factory=list)
    fresh_feedback: list[Feedback] = dataclasses.field(default_factory=list)

    def add(self, record: LLMCall | Span | Feedback, codecs: Codecs) -> None:
        """Encode one record (raises, adding nothing, if it cannot be encoded)."""
        if isinstance(record, LLMCall):
            call_row = codecs.call_row(record)
            content_row = codecs.content_row(record) if record.content is not None else None
            self.calls.append(call_row)
            if content_row is not None:
                self.contents.append(content_row)
            self.call_ids.append(record.id)
        elif isinstance(record, Span):
            self.spans.append(codecs.span_row(record))
        else:
            self.feedback.append(codecs.feedback_row(record))
            self.fresh_feedback.append(record)

    def __len__(self) -> int:
        return len(self.calls) + len(self.spans) + len(self.feedback)


def _columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.columns]


# --- reading ---------------------------------------------------------------------------------------


def record_values(row: sa.RowMapping, record: type) -> dict[str, Any]:
    """The fields of ``record`` found in a row, with JSON lists of tags as tuples."""
    names = {f.name for f in dataclasses.fields(record)}
    values = {key: value for key, value in row.items() if key in names}
    if "tags" in values:
        values["tags"] = tuple(values["tags"] or ())
    if isinstance(values.get("cost_usd"), float):
        values["cost_usd"] = Decimal(str(values["cost_usd"]))
    return values


def call_from_row(row: sa.RowMapping, *, with_content: bool) -> LLMCall:
    """An LLMCall from an llm_calls row (joined with its content when ``with_content``)."""
    values = record_values(row, LLMCall)
    values.pop("content", None)
    content = None
    if with_content and any(row.get(name) is not None for name in CONTENT_FIELDS):
        content = CallContent(**{name: row[name] for name in CONTENT_FIELDS})
    return LLMCall(**values, content=content)


def span_from_row(row: sa.RowMapping) -> Span:
    return Span(**record_values(row, Span))
