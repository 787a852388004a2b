"""The store: write batches of records, read a call or a trace, on SQLite or PostgreSQL (ClickHouse: its
writes are ``obs.store.clickhouse.writes``)."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from obs import config
from obs.records import Feedback, LLMCall, Span, Trace
from obs.store import db, pgcopy, rollup, rows, sql
from obs.store.schema import as_utc, feedback, llm_call_content, llm_calls, llm_texts, metadata, spans


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
        self._max_variables: int | None = None
        if migrate:
            self._migrate()

    def _migrate(self) -> None:
        if self.dialect == "clickhouse":
            _clickhouse().migrate(self.engine, self.control)
        else:
            db.ensure_schema(self.engine)

    @functools.cached_property
    def control(self) -> Engine:
        """Where the tables people change live (eval cases, alert rules and events, replay runs): this store's own
        database, or beside a ClickHouse store a SQLite or PostgreSQL one (``obs.store.clickhouse.control``)."""
        if self.dialect != "clickhouse":
            return self.engine
        engine = db.create_engine(_clickhouse().control_url(self.engine))
        _clickhouse().create_control(engine)
        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({db.display_url(self.engine.url)!r})"

    def close(self) -> None:
        self.engine.dispose()
        if "control" in self.__dict__:
            self.control.dispose()

    # --- writing --------------------------------------------------------------------------------------

    def write_batch(
        self,
        calls: Sequence[LLMCall] = (),
        spans_: Sequence[Span] = (),
        feedback_: Sequence[Feedback] = (),
    ) -> BatchResult:
        """Insert calls (metadata + content), spans and feedback in one transaction; known ids are skipped."""
        batch = rows.EncodedBatch()
        records: list[LLMCall | Span | Feedback] = [*calls, *spans_, *feedback_]
        for record in records:
            batch.add(record, self.codecs)
        return self.write_encoded(batch)

    def write_encoded(self, batch: rows.EncodedBatch) -> BatchResult:
        """Write rows encoded with ``self.codecs`` in one transaction; known ids are skipped.

        The fastest safe path of each dialect: COPY on PostgreSQL (falling back to COPY into a temporary table
        and INSERT ... ON CONFLICT DO NOTHING when some ids are already stored), executemany on SQLite.
        """
        self.codecs.finish(batch)  # done already when the writer made the batch
        if self.dialect == "clickhouse":
            calls, spans_, feedback_ = _clickhouse().write_encoded(self.engine, self.codecs, batch)
            return BatchResult(calls, spans_, feedback_, len(batch) - calls - spans_ - feedback_)
        try:
            return self._write_encoded(batch, find_new=False)
        except _SomeKnown:  # a retry or a replay: write again, reading back which calls are new
            return self._write_encoded(batch, find_new=True)

    def _write_encoded(self, batch: rows.EncodedBatch, *, find_new: bool) -> BatchResult:
        codecs = self.codecs
        try:
            with self.engine.begin() as connection:
                new_ids: list[str] = []
                ahead = batch.copy_text  # PostgreSQL: the rows formatted for COPY by Codecs.finish
                new_calls = self._insert(connection, codecs.calls, batch.calls, new_ids, find_new=find_new, ahead=ahead)
                # The rollups count exactly the calls stored: as the writer counted them when every call is new.
                if batch.rollup is not None and new_calls == len(batch.calls):
                    rollup.merge(connection, batch.rollup)
                else:
                    rollup.add(connection, new_ids)
                if batch.texts:
                    texts = [{"hash": k, "text": v} for k, v in batch.texts.items()]
                    connection.execute(_insert_missing(self.dialect, llm_texts), texts)
                self._insert(connection, codecs.content, batch.contents, ahead=ahead)
                new_spans = self._insert(connection, codecs.spans, batch.spans, ahead=ahead)
                new_feedback = self._insert(connection, codecs.feedback, batch.feedback, ahead=ahead)
                self._apply_feedback(connection, batch.fresh_feedback, batch.call_ids)
        except _DRIVER_ERRORS as exc:  # raw driver errors from COPY, as SQLAlchemy's own kinds
            raise _as_sqlalchemy_error(exc) from exc
        skipped = len(batch) - new_calls - new_spans - new_feedback
        return BatchResult(new_calls, new_spans, new_feedback, skipped)

    @functools.cached_property
    def codecs(self) -> rows.Codecs:
        """How records become this store's driver rows."""
        return rows.Codecs(self.dialect)

    def _insert(
        self,
        connection: sa.Connection,
        codec: rows.TableCodec,
        values: list[tuple[Any, ...]],
        new_ids: list[str] | None = None,
        *,
        find_new: bool = True,
        ahead: Mapping[str, bytearray] | None = None,
    ) -> int:
        """Insert rows, skipping primary keys already stored; returns how many were new (their ids into new_ids).

        With ``new_ids`` and not ``find_new`` (SQLite), every row is expected to be new: ``_SomeKnown`` is
        raised, for the caller to roll back and try again with ``find_new``, when some were not. Reading the
        new ids back (``RETURNING``) steps once per row, taking the GIL back each time: while the app or the
        other writer thread runs Python, each step then waits for a thread switch (a GIL convoy: ~75x slower).
        """
        if not values:
            return 0
        if self.dialect == "postgresql":
            return pgcopy.copy(connection, codec, values, new_ids, (ahead or {}).get(codec.table.name))
        # Many rows per INSERT: SQLite then runs each statement in one step with the GIL released, instead of
        # taking the GIL back between rows (which makes the writer threads wait for each other).
        per_statement = max(1, min(config.WRITE_CHUNK_ROWS, self._sqlite_variables(connection) // len(codec.columns)))
        inserted = 0
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            returning = new_ids is not None and find_new
            sql = _sqlite_insert_sql(codec.table.name, codec.columns, len(chunk), returning=returning)
            flat = tuple(value for row in chunk for value in row)
            result = connection.exec_driver_sql(sql, flat)
            if new_ids is None:
                inserted += max(result.rowcount, 0)
                continue
            if returning:
                ids = [row[0] for row in result]
            elif result.rowcount == len(chunk):
                ids = [row[0] for row in chunk]
            else:
                raise _SomeKnown
            new_ids.extend(ids)
            inserted += len(ids)
        return inserted

    def _sqlite_variables(self, connection: sa.Connection) -> int:
        """How many bound parameters one statement may take on this SQLite (999 before 3.32)."""
        if self._max_variables is None:
            raw: Any = connection.connection.driver_connection
            limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(raw, "getlimit") else 999
            self._max_variables = min(int(limit), SQLITE_MAX_VARIABLES)
        return self._max_variables

    def _apply_feedback(self, connection: sa.Connection, fresh: Sequence[Feedback], call_ids: list[str]) -> None:
        """Keep llm_calls.user_feedback (the seed's column) equal to the latest feedback on each call."""
        latest: dict[str, str] = {}
        if call_ids:  # feedback that arrived before its call (e.g. the call came back from the spool later)
            early = sql.execute(connection, "early_feedback", ids=json.dumps(call_ids))
            latest.update((row.call_id, row.value) for row in early)
        for item in sorted(fresh, key=lambda f: f.ts):
            if item.call_id:
                latest[item.call_id] = item.value
        if latest:
            stmt = (
                llm_calls.update()
                .where(llm_calls.c.id == sa.bindparam("call_id"))
                .values(user_feedback=sa.bindparam("value"))
            )
            with rollup.changing(connection, list(latest)):
                connection.execute(stmt, [{"call_id": k, "value": v} for k, v in latest.items()])

    def remove_feedback(self, feedback_id: str) -> None:
        """Delete one feedback (a reviewer's verdict taken back); its call's user_feedback becomes the latest left."""
        if self.dialect == "clickhouse":
            _clickhouse().remove_feedback(self.engine, self.codecs, feedback_id)
            return
        with self.engine.begin() as connection:
            call_id = connection.execute(sa.select(feedback.c.call_id).where(feedback.c.id == feedback_id)).scalar()
            connection.execute(feedback.delete().where(feedback.c.id == feedback_id))
            if call_id:
                latest = connection.execute(
                    sa.select(feedback.c.value)
                    .where(feedback.c.call_id == call_id)
                    .order_by(feedback.c.ts.desc())
                    .limit(1)
                ).scalar()
                with rollup.changing(connection, [call_id]):
                    connection.execute(llm_calls.update().where(llm_calls.c.id == call_id).values(user_feedback=latest))

    def reset(self) -> None:
        """Delete every record (the schema and the alert rules stay); used by ``obs demo --reset``."""
        if self.dialect == "clickhouse":
            _clickhouse().reset(self.engine)
            return
        with self.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                if table.name != "alert_rules":  # configuration, not records
                    connection.execute(table.delete())

    def set_costs(self, costs: Mapping[str, Decimal | None]) -> None:
        """Overwrite cost_usd of the given calls (used by recost)."""
        if not costs:
            return
        if self.dialect == "clickhouse":  # a new version of each row: ClickHouse's tables are not updated
            _clickhouse().set_costs(self.engine, costs)
            return
        stmt = llm_calls.update().where(llm_calls.c.id == sa.bindparam("call_id")).values(cost_usd=sa.bindparam("cost"))
        with self.engine.begin() as connection, rollup.changing(connection, list(costs)):
            connection.execute(stmt, [{"call_id": k, "cost": v} for k, v in costs.items()])

    # --- reading --------------------------------------------------------------------------------------

    def get_call(self, call_id: str) -> LLMCall | None:
        """One call with its content (content is None when not stored or expired)."""
        stmt = select_calls_with_content().where(llm_calls.c.id == call_id)
        with self.engine.connect() as connection:
            row = connection.execute(stmt).mappings().first()
        return None if row is None else rows.call_from_row(row, with_content=True)

    def get_trace(self, trace_id: str) -> Trace | None:
        """Every call and span of a trace, in time order; None for an unknown trace id."""
        with self.engine.connect() as connection:
            call_rows = connection.execute(
                sa.select(llm_calls).where(llm_calls.c.trace_id == trace_id).order_by(llm_calls.c.ts)
            ).mappings()
            calls = tuple(rows.call_from_row(row, with_content=False) for row in call_rows)
            span_rows = connection.execute(
                sa.select(spans).where(spans.c.trace_id == trace_id).order_by(spans.c.start_ts)
            ).mappings()
            trace_spans = tuple(rows.span_from_row(row) for row in span_rows)
        if not calls and not trace_spans:
            return None
        return Trace(trace_id=trace_id, calls=calls, spans=trace_spans)

    def features_of(
        self, call_ids: Sequence[str], trace_ids: Sequence[str]
    ) -> tuple[dict[str, str | None], dict[str, set[str | None]]]:
        """The feature of each stored call and the features of each stored trace's calls and spans (what the
        writer needs to store a feedback comment under the policy of what it is about)."""
        calls: dict[str, str | None] = {}
        traces: dict[str, set[str | None]] = {}
        with self.engine.connect() as connection:
            for chunk in _chunks(call_ids):
                stmt = sa.select(llm_calls.c.id, llm_calls.c.feature).where(llm_calls.c.id.in_(chunk))
                calls.update((row.id, row.feature) for row in connection.execute(stmt))
            for chunk in _chunks(trace_ids):
                for table in (llm_calls, spans):
                    stmt = sa.select(table.c.trace_id, table.c.feature).where(table.c.trace_id.in_(chunk)).distinct()
                    for row in connection.execute(stmt):
                        traces.setdefault(row.trace_id, set()).add(row.feature)
        return calls, traces

    def stats(self) -> StoreStats:
        """Counts for `obs stats`: calls, traces, unpriced calls, errors, total cost, size on disk."""
        with self.engine.connect() as connection:
            row = sql.execute(connection, "store_stats").mappings().one()
            size = sql.execute(connection, "store_size").scalar_one()
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


def _clickhouse() -> Any:
    from obs.store.clickhouse import writes  # when a ClickHouse store uses it: pyarrow and chdb are an extra

    return writes


def select_calls_with_content() -> sa.Select[Any]:
    """Calls joined with their content and the shared system prompt (``rows.call_from_row`` puts it back)."""
    return sa.select(
        llm_calls,
        *[llm_call_content.c[name] for name in rows.CONTENT_FIELDS],
        llm_texts.c.text.label("shared_system_prompt"),
    ).select_from(
        llm_calls.outerjoin(llm_call_content, llm_call_content.c.call_id == llm_calls.c.id).outerjoin(
            llm_texts, llm_texts.c.hash == llm_call_content.c.system_prompt_hash
        )
    )


def _chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    """``values`` in slices small enough for one statement's bound parameters (999 on an old SQLite)."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _insert_missing(dialect: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for this dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


@functools.cache
def default_store() -> Store:
    """The store at OBS_DATABASE_URL (one per process)."""
    return Store()


#: At most this many bound parameters in one SQLite statement (SQLite allows 32,766 since 3.32, 999 before).
SQLITE_MAX_VARIABLES = 32_000


@functools.lru_cache(maxsize=64)
def _sqlite_insert_sql(table: str, columns: tuple[str, ...], rows: int, *, returning: bool = False) -> str:
    marks = "(" + ", ".join("?" * len(columns)) + ")"
    values = ", ".join([marks] * rows)
    tail = f" RETURNING {columns[0]}" if returning else ""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT DO NOTHING{tail}"


_DRIVER_ERRORS = (psycopg.Error,)


class _SomeKnown(Exception):
    """Some calls of a batch written as all-new were stored already: the transaction is rolled back."""


def _as_sqlalchemy_error(exc: Exception) -> sa.exc.DBAPIError:
    kind = sa.exc.OperationalError if isinstance(exc, psycopg.OperationalError) else sa.exc.DatabaseError
    return kind("COPY", None, exc)


def _sqlite_wal_bytes(engine: Engine) -> int:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return 0
    wal = Path(database + "-wal")
    return wal.stat().st_size if wal.exists() else 0
