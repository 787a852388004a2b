"""Records <-> rows. Writing encodes straight to what each driver takes (the fast path); reading decodes rows.

The write path bypasses SQLAlchemy's per-row bind processing: JSON columns are serialized once with the C
encoder (``to_jsonable`` only when that fails), timestamps become UTC (fixed-width text on SQLite), and on
PostgreSQL NUL characters, which text and JSONB refuse, are replaced by U+FFFD.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.adapt import Transformer

try:  # psycopg's own COPY row formatter (C in psycopg[binary]); without it the COPY formats rows itself
    from psycopg._copy_base import format_row_text
except ImportError:  # pragma: no cover - another psycopg layout
    format_row_text = None

from obs import config
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.serialize import PlainJson, RawJson, clean_text, to_jsonable
from obs.store import rollup
from obs.store.schema import (
    Json,
    Money,
    UtcTimestamp,
    feedback,
    llm_call_content,
    llm_calls,
    spans,
    sqlite_text,
    to_utc,
)

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
    """How one column's values become what the driver takes. Text that PostgreSQL refuses (NUL, lone
    surrogates) is not looked for here, row by row, but once per batch by ``Codecs.finish``."""
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
    return _same


def clean_str(value: Any) -> Any:
    """A string any database takes: lone surrogates (not UTF-8) and NUL characters become U+FFFD."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


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
        self.dialect = dialect
        #: Batches count their rollups as they are encoded (``rollup.Deltas``) where the database's time bounds
        #: ingest (PostgreSQL); on SQLite the database thread runs the rollup queries without the GIL instead.
        self.count_rollups = dialect == "postgresql"
        self.calls = TableCodec.build(llm_calls, dialect)
        self.content = TableCodec.build(llm_call_content, dialect)  # reads a _StoredContent
        self.spans = TableCodec.build(spans, dialect)
        self.feedback = TableCodec.build(feedback, dialect)

    def call_row(self, call: LLMCall) -> tuple[Any, ...]:
        return self.calls.row(call)

    def content_row(self, call: LLMCall) -> tuple[Any, ...]:
        """The content row as stored (a long system prompt replaced by its hash: see ``content_and_text``)."""
        return self.content_and_text(call)[0]

    def content_and_text(self, call: LLMCall) -> tuple[tuple[Any, ...], tuple[str, str] | None]:
        """The content row, and (hash, text) when the system prompt is stored once in llm_texts instead."""
        content = call.content
        assert content is not None
        prompt, messages, shared = share_system_prompt(content)
        stored = _StoredContent(
            call.id, shared and shared[0], prompt, messages, content.tools, content.response, content.tool_calls,
            content.output_text,
        )  # fmt: skip
        return self.content.row(stored), shared

    def finish(self, batch: EncodedBatch) -> None:
        """What the dialect's write can do ahead of its transaction: on PostgreSQL, the COPY text of the rows.

        The writer's first thread makes it, so the thread that holds the transaction only sends bytes: formatting
        ~10 KB a call is ~15 us of the GIL, which that thread would otherwise take between round trips. Text
        PostgreSQL refuses (NUL, a lone surrogate: psycopg raises while formatting) is replaced in that table's
        rows, found once per batch instead of looked for in every text value.
        """
        if self.dialect != "postgresql" or batch.finished:
            return
        batch.finished = True
        tables = ((self.calls, batch.calls), (self.content, batch.contents), (self.spans, batch.spans),
                  (self.feedback, batch.feedback))  # fmt: skip
        for codec, values in tables:
            if format_row_text is None:
                values[:] = [tuple(clean_str(v) for v in row) for row in values]
                continue
            try:
                batch.copy_text[codec.table.name] = _copy_text(values)
            except (psycopg.DataError, UnicodeEncodeError):  # seldom
                values[:] = [tuple(clean_str(v) for v in row) for row in values]
                batch.copy_text[codec.table.name] = _copy_text(values)

    def span_row(self, span: Span) -> tuple[Any, ...]:
        return self.spans.row(span)

    def feedback_row(self, item: Feedback) -> tuple[Any, ...]:
        return self.feedback.row(item)


def _copy_text(values: list[tuple[Any, ...]]) -> bytearray:
    """Rows as PostgreSQL's COPY text format (psycopg's formatter)."""
    assert format_row_text is not None
    transformer, text = Transformer(), bytearray()
    for row in values:
        format_row_text(row, transformer, text)
    return text


@dataclasses.dataclass(slots=True)
class EncodedBatch:
    """Rows ready for the driver, encoded ahead of the transaction that writes them."""

    calls: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    contents: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    spans: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    feedback: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    call_ids: list[str] = dataclasses.field(default_factory=list)
    #: hash -> text of the texts stored once (llm_texts) that this batch's contents refer to.
    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    fresh_feedback: list[Feedback] = dataclasses.field(default_factory=list)
    #: PostgreSQL: table name -> its rows as COPY text (``Codecs.finish``), when made ahead.
    copy_text: dict[str, bytearray] = dataclasses.field(default_factory=dict)
    #: ``Codecs.finish`` has run (PostgreSQL needs it: it also replaces text PostgreSQL refuses).
    finished: bool = False
    #: What the calls add to the rollups (when ``Codecs.count_rollups``), counted as they are encoded.
    rollup: rollup.Deltas | None = None

    def add(self, record: LLMCall | Span | Feedback, codecs: Codecs) -> None:
        """Encode one record (raises, adding nothing, if it cannot be encoded)."""
        if isinstance(record, LLMCall):
            call_row = codecs.call_row(record)
            content_row, shared = codecs.content_and_text(record) if record.content is not None else (None, None)
            if codecs.count_rollups:
                if self.rollup is None:
                    self.rollup = rollup.Deltas()
                self.rollup.add(record)
            self.calls.append(call_row)
            if content_row is not None:
                self.contents.append(content_row)
            if shared is not None:
                self.texts[shared[0]] = shared[1]
            self.call_ids.append(record.id)
        elif isinstance(record, Span):
            self.spans.append(codecs.span_row(record))
        else:
            self.feedback.append(codecs.feedback_row(record))
            self.fresh_feedback.append(record)

    def __len__(self) -> int:
        return len(self.calls) + len(self.spans) + len(self.feedback)


@dataclasses.dataclass(slots=True)
class _StoredContent:
    """What the content codec reads: a call's content as stored (one attribute per llm_call_content column)."""

    call_id: str
    system_prompt_hash: str | None
    system_prompt: str | None
    messages: Any
    tools: Any
    response: Any
    tool_calls: Any
    output_text: str | None


#: The key that stands for a system message's content stored once in llm_texts (its SHA-256).
TEXT_REF = "content_sha256"


def share_system_prompt(content: CallContent) -> tuple[str | None, Any, tuple[str, str] | None]:
    """The system prompt and messages to store, and (hash, text) of the system prompt when that is stored once
    in llm_texts.

    A system prompt of SHARED_TEXT_MIN_CHARS or more leaves the ``system_prompt`` column, and the first message
    when that is the same system prompt (``{"role": "system", "content_sha256": hash}`` stands in for it);
    ``restore_system_prompt`` and the ``llm_calls_full`` view put it back.
    """
    prompt, messages = content.system_prompt, content.messages
    if not isinstance(prompt, str) or len(prompt) < config.SHARED_TEXT_MIN_CHARS:
        return prompt, messages, None
    digest = text_digest(prompt)
    if isinstance(messages, list) and messages and _is_system(messages[0]) and messages[0].get("content") == prompt:
        first = {key: value for key, value in messages[0].items() if key != "content"}
        # The same list type: PlainJson (parsed from the body as sent) keeps its fast encoding.
        messages = type(messages)([{**first, TEXT_REF: digest}, *messages[1:]])
    return None, messages, (digest, prompt)


@functools.lru_cache(maxsize=256)
def text_digest(text: str) -> str:
    """The SHA-256 of a shared text (cached: an app sends the same few system prompts again and again)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def restore_system_prompt(content: CallContent, text: str) -> CallContent:
    """The content as it was recorded, from its stored form and the shared system prompt text."""
    messages = content.messages
    if isinstance(messages, list) and messages and isinstance(messages[0], dict) and TEXT_REF in messages[0]:
        first = {key: value for key, value in messages[0].items() if key != TEXT_REF}
        messages = [{**first, "content": text}, *messages[1:]]
    return dataclasses.replace(content, system_prompt=text, messages=messages)


def _is_system(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") in ("system", "developer") and TEXT_REF not in message


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
        if row.get("shared_system_prompt") is not None:
            content = restore_system_prompt(content, row["shared_system_prompt"])
    return LLMCall(**values, content=content)


def span_from_row(row: sa.RowMapping) -> Span:
    return Span(**record_values(row, Span))
