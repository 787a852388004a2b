"""The store: write batches of records, read a call or a trace, on SQLite or PostgreSQL."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from obs import config, db, queries
from obs.records import CallContent, Feedback, LLMCall, Span, Trace
from obs.schema import as_utc, feedback, llm_call_content, llm_calls, spans

_CONTENT_FIELDS = tuple(f.name for f in dataclasses.fields(CallContent))
_CALL_FIELDS = tuple(f.name for f in dataclasses.fields(LLMCall) if f.name != "content")


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How many records of a batch were new; the rest were already stored (a retry or a replay)."""

    calls: int = 0
    spans: int = 0
    feedback: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What `obs stats` prints."""

    calls: int
    traces: int
    unpriced_calls: int
    errors: int
    total_cost_usd: float | None
    first_ts: datetime | None
    last_ts: datetime | None
    size_bytes: int


class Store:
    """One database (SQLite file or PostgreSQL), migrated to the newest schema on first use."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.engine: Engine = db.create_engine(url)
        if migrate:
            db.ensure_schema(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({db.display_url(self.engine.url)!r})"

    def close(self) -> None:
        self.engine.dispose()

    # --- writing --------------------------------------------------------------------------------------

    def write_batch(
        self,
        calls: Sequence[LLMCall] = (),
        spans_: Sequence[Span] = (),
        feedback_: Sequence[Feedback] = (),
    ) -> BatchResult:
        """Insert calls (metadata + content), spans and feedback in one transaction; known ids are skipped."""
        with self.engine.begin() as connection:
            new_calls = self._insert(connection, llm_calls, [_call_row(c) for c in calls])
            contents = [_content_row(c) for c in calls if c.id in new_calls and c.content is not None]
            self._insert(connection, llm_call_content, contents)
            new_spans = self._insert(connection, spans, [_plain_row(s) for s in spans_])
            new_feedback = self._insert(connection, feedback, [_plain_row(f) for f in feedback_])
            self._apply_feedback(connection, [f for f in feedback_ if f.id in new_feedback], new_calls)
        total = len(calls) + len(spans_) + len(feedback_)
        inserted = len(new_calls) + len(new_spans) + len(new_feedback)
        return BatchResult(len(new_calls), len(new_spans), len(new_feedback), total - inserted)

    def _insert(self, connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> set[str]:
        """INSERT ... ON CONFLICT DO NOTHING, batched into multi-row statements; returns the new keys."""
        if not rows:
            return set()
        key = table.primary_key.columns.values()[0]
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(key)
        new: set[str] = set()
        for start in range(0, len(rows), config.WRITE_CHUNK_ROWS):
            chunk = rows[start : start + config.WRITE_CHUNK_ROWS]
            if self.dialect == "postgresql":
                chunk = [_pg_safe_row(row) for row in chunk]
            new.update(connection.execute(stmt, chunk).scalars())
        return new

    def _apply_feedback(self, connection: sa.Connection, fresh: list[Feedback], new_calls: set[str]) -> None:
        """Keep llm_calls.user_feedback (the seed's column) equal to the latest feedback on each call."""
        latest: dict[str, str] = {}
        for item in sorted(fresh, key=lambda f: f.ts):
            if item.call_id:
                latest[item.call_id] = item.value
        if new_calls:
            # Feedback that arrived before its call (e.g. the call came back from the spool later).
            early = sa.select(feedback.c.call_id, feedback.c.value).where(
                feedback.c.call_id.in_(new_calls - latest.keys())
            )
            for call_id, value in connection.execute(early.order_by(feedback.c.ts)):
                latest[call_id] = value
        if latest:
            stmt = (
                llm_calls.update()
                .where(llm_calls.c.id == sa.bindparam("call_id"))
                .values(user_feedback=sa.bindparam("value"))
            )
            connection.execute(stmt, [{"call_id": k, "value": v} for k, v in latest.items()])

    def set_costs(self, costs: Mapping[str, Decimal | None]) -> None:
        """Overwrite cost_usd of the given calls (used by recost)."""
        if not costs:
            return
        stmt = llm_calls.update().where(llm_calls.c.id == sa.bindparam("call_id")).values(cost_usd=sa.bindparam("cost"))
        with self.engine.begin() as connection:
            connection.execute(stmt, [{"call_id": k, "cost": v} for k, v in costs.items()])

    # --- reading --------------------------------------------------------------------------------------

    def get_call(self, call_id: str) -> LLMCall | None:
        """One call with its content (content is None when not stored or expired)."""
        stmt = (
            sa.select(llm_calls, *[llm_call_content.c[name] for name in _CONTENT_FIELDS])
            .select_from(llm_calls.outerjoin(llm_call_content, llm_call_content.c.call_id == llm_calls.c.id))
            .where(llm_calls.c.id == call_id)
        )
        with self.engine.connect() as connection:
            row = connection.execute(stmt).mappings().first()
        return None if row is None else _call_from_row(row, with_content=True)

    def get_trace(self, trace_id: str) -> Trace | None:
        """Every call and span of a trace, in time order; None for an unknown trace id."""
        with self.engine.connect() as connection:
            call_rows = connection.execute(
                sa.select(llm_calls).where(llm_calls.c.trace_id == trace_id).order_by(llm_calls.c.ts)
            ).mappings()
            calls = tuple(_call_from_row(row, with_content=False) for row in call_rows)
            span_rows = connection.execute(
                sa.select(spans).where(spans.c.trace_id == trace_id).order_by(spans.c.start_ts)
            ).mappings()
            trace_spans = tuple(Span(**_from_json_row(row, Span)) for row in span_rows)
        if not calls and not trace_spans:
            return None
        return Trace(trace_id=trace_id, calls=calls, spans=trace_spans)

    def stats(self) -> StoreStats:
        """Counts for `obs stats`: calls, traces, unpriced calls, errors, total cost, size on disk."""
        with self.engine.connect() as connection:
            row = queries.execute(connection, "store_stats").mappings().one()
            size = queries.execute(connection, "store_size").scalar_one()
        wal = _sqlite_wal_bytes(self.engine)
        total = row["total_cost_usd"]
        return StoreStats(
            calls=int(row["calls"]),
            traces=int(row["traces"]),
            unpriced_calls=int(row["unpriced_calls"] or 0),
            errors=int(row["errors"] or 0),
            total_cost_usd=None if total is None else float(total),
            first_ts=None if row["first_ts"] is None else as_utc(row["first_ts"]),
            last_ts=None if row["last_ts"] is None else as_utc(row["last_ts"]),
            size_bytes=int(size or 0) + wal,
        )


@functools.cache
def default_store() -> Store:
    """The store at OBS_DATABASE_URL (one per process)."""
    return Store()


# --- rows <-> records -------------------------------------------------------------------------------


def _call_row(call: LLMCall) -> dict[str, Any]:
    row = {name: getattr(call, name) for name in _CALL_FIELDS}
    row["tags"] = list(call.tags)
    row["metadata"] = dict(call.metadata) if call.metadata is not None else None
    row["params"] = dict(call.params) if call.params is not None else None
    return row


def _content_row(call: LLMCall) -> dict[str, Any]:
    assert call.content is not None
    row = {name: getattr(call.content, name) for name in _CONTENT_FIELDS}
    row["call_id"] = call.id
    return row


def _plain_row(record: Span | Feedback) -> dict[str, Any]:
    row = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    if "tags" in row:
        row["tags"] = list(row["tags"])
    if row.get("metadata") is not None:
        row["metadata"] = dict(row["metadata"])
    return row


def _from_json_row(row: sa.RowMapping, record: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(record)}
    values = {key: value for key, value in row.items() if key in names}
    if "tags" in values:
        values["tags"] = tuple(values["tags"] or ())
    return values


def _call_from_row(row: sa.RowMapping, *, with_content: bool) -> LLMCall:
    values = _from_json_row(row, LLMCall)
    values.pop("content", None)
    content = None
    if with_content and any(row.get(name) is not None for name in _CONTENT_FIELDS):
        content = CallContent(**{name: row[name] for name in _CONTENT_FIELDS})
    return LLMCall(**values, content=content)


# PostgreSQL refuses NUL characters in text and \u0000 in JSONB; a stray one must not fail the batch.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _pg_safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _pg_safe(value) for key, value in row.items()}


def _pg_safe(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list | dict) and "\\u0000" in (text := json.dumps(value, default=str)):
        return json.loads(_JSON_NUL.sub(r"\1\\ufffd", text))
    return value


def _sqlite_wal_bytes(engine: Engine) -> int:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return 0
    wal = Path(database + "-wal")
    return wal.stat().st_size if wal.exists() else 0
