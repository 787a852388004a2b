"""The store's writes on ClickHouse (``Store`` calls them for a ClickHouse URL), made for an append-only engine.

* Writes are batched inserts of Arrow tables (columnar: chdb reads them in place, a server gets them in Arrow's
  binary format over HTTP). Ids already stored are looked up first and not sent again; the ReplacingMergeTree
  tables also fold any copy that races in, and every read is ``FINAL`` (the ``final`` setting of each connection),
  so a retried or spooled write is read once.
* Updates never mutate a table: feedback and recost insert a newer ``_version`` of the call's row, and the latest
  version wins at read (and at merge) time.
* Reads are the ``Store``'s own: SQLAlchemy statements and ``sql/`` files, with ``join_use_nulls`` so an outer
  join gives NULL as on the other databases (``obs.store.clickhouse.dialect`` sets both on every connection).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from obs import config
from obs.records import Feedback
from obs.store import rollup, rows, sql
from obs.store.clickhouse import control, ddl
from obs.store.clickhouse.dialect import database_of
from obs.store.schema import Json, Money, UtcTimestamp, feedback, llm_call_content, llm_calls, spans

#: The ids in the JSON array parameter ``ids``, as a subquery (sql/_call_ids.clickhouse.sql, as the queries use it).
_IDS = sql.fragment("call_ids", "clickhouse")
#: Dollars have ten decimal places in ClickHouse (Decimal(20, 10)), as in the other stores.
_TEN_PLACES = Decimal("1e-10")


def control_url(engine: Engine) -> str:
    """The URL of the control store of the ClickHouse store ``engine``."""
    return control.control_url(engine.url, database_of(engine.url))


def create_control(engine: Engine) -> None:
    """Create the control store's tables that are missing."""
    control.create(engine)


def migrate(engine: Engine, control_store: Engine) -> None:
    """Apply the DDL files this database has not had yet (ON CLUSTER with OBS_CLICKHOUSE_CLUSTER)."""
    with engine.connect() as connection:
        url = control_store.url.render_as_string(hide_password=False)
        ddl.apply(connection, config.clickhouse_cluster(), url)


def write_encoded(engine: Engine, codecs: rows.Codecs, batch: rows.EncodedBatch) -> tuple[int, int, int]:
    """Insert the batch's new rows (ids not stored yet); returns the new (calls, spans, feedback).

    A call gets the feedback that arrived before it; fresh feedback sets its call's user_feedback."""
    version = time.time_ns() // 1000
    with engine.connect() as connection:
        known_calls = _known(connection, "llm_calls", "id", batch.call_ids)
        calls = [row for row in batch.calls if row[0] not in known_calls]
        new_ids = [row[0] for row in calls]
        early = _latest_feedback(connection, new_ids) if new_ids else {}
        if early:
            position = codecs.calls.columns.index("user_feedback")
            calls = [_with(row, position, early.get(row[0], row[position])) for row in calls]
        _insert(connection, "llm_calls", codecs.calls.columns, calls, llm_calls, version)
        rollup.add(connection, new_ids)  # INSERT ... SELECT over the rows just stored (SummingMergeTree adds up)
        if batch.texts:
            known_texts = _known(connection, "llm_texts", "hash", list(batch.texts))
            texts = [(k, v) for k, v in batch.texts.items() if k not in known_texts]
            arrays = {"hash": pa.array([t[0] for t in texts], pa.string()),
                      "text": pa.array([t[1] for t in texts], pa.string())}  # fmt: skip
            _insert_columns(connection, "llm_texts", arrays, version)
        ts = codecs.calls.columns.index("ts")
        where = {row[0]: (row[ts], row[1]) for row in calls}
        contents = [row for row in batch.contents if row[0] in where]
        extra = {"ts": [where[row[0]][0] for row in contents], "trace_id": [where[row[0]][1] for row in contents]}
        _insert(connection, "llm_call_content", codecs.content.columns, contents, llm_call_content, version, extra)
        known_spans = _known(connection, "spans", "id", [row[0] for row in batch.spans])
        new_spans = [row for row in batch.spans if row[0] not in known_spans]
        _insert(connection, "spans", codecs.spans.columns, new_spans, spans, version)
        known_feedback = _known(connection, "feedback", "id", [row[0] for row in batch.feedback])
        new_feedback = [row for row in batch.feedback if row[0] not in known_feedback]
        _insert(connection, "feedback", codecs.feedback.columns, new_feedback, feedback, version)
        fresh = [f for f in batch.fresh_feedback if f.id not in known_feedback]
        _apply_feedback(connection, fresh, version + 1)
    return len(calls), len(new_spans), len(new_feedback)


def set_costs(engine: Engine, costs: Mapping[str, Decimal | None]) -> None:
    """Overwrite cost_usd of the given calls (recost): a new version of each call's row."""
    if costs:
        with engine.connect() as connection:
            _new_versions(connection, "cost_usd", dict(costs), time.time_ns() // 1000)


def remove_feedback(engine: Engine, codecs: rows.Codecs, feedback_id: str) -> None:
    """Delete one feedback (a deleted version of its row); its call's user_feedback becomes the latest left."""
    columns = codecs.feedback.columns
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            f"SELECT {', '.join(columns)}, _version FROM feedback WHERE id = %s", (feedback_id,)
        ).first()
        if found is None:
            return
        version = max(time.time_ns() // 1000, int(found[-1]) + 1)
        arrays = {name: _column([found[i]], feedback.c[name].type) for i, name in enumerate(columns)}
        arrays["_deleted"] = pa.array([1], pa.uint8())
        _insert_columns(connection, "feedback", arrays, version)
        call_id = found[columns.index("call_id")]
        if call_id:
            latest = connection.exec_driver_sql(
                "SELECT value FROM feedback WHERE call_id = %s ORDER BY ts DESC LIMIT 1", (call_id,)
            ).scalar()
            _new_versions(connection, "user_feedback", {call_id: latest}, version + 1)


def reset(engine: Engine) -> None:
    """Delete every record (the schema stays)."""
    with engine.connect() as connection:
        for table in (
            "llm_calls",
            "llm_call_content",
            "llm_texts",
            "spans",
            "feedback",
            *(t.name for t in rollup.TABLES),
        ):
            connection.exec_driver_sql(f"TRUNCATE TABLE IF EXISTS {table}")


def _apply_feedback(connection: sa.Connection, fresh: Sequence[Feedback], version: int) -> None:
    """The calls' user_feedback (the seed's column) becomes their latest feedback: a new version of each row."""
    latest: dict[str, str] = {}
    for item in sorted(fresh, key=lambda f: f.ts):
        if item.call_id:
            latest[item.call_id] = item.value
    if latest:
        _new_versions(connection, "user_feedback", latest, version)


def _new_versions(connection: sa.Connection, column: str, values: Mapping[str, Any], version: int) -> None:
    """Insert the current row of each call again with ``column`` set to its value, at a newer version."""
    columns = [c.name for c in llm_calls.columns]
    # As stored (JSON as its text, times naive UTC), not as SQLAlchemy decodes them: they go back in as they are.
    current = connection.exec_driver_sql(
        f"SELECT {', '.join(columns)}, _version FROM llm_calls WHERE id IN {_IDS.replace(':ids', '%s')}",
        (json.dumps(list(values)),),
    ).all()
    if not current:
        return
    position = columns.index(column)
    changed = [_with(tuple(row[: len(columns)]), position, values[row[0]]) for row in current]
    versions = [max(version, int(row[-1]) + 1) for row in current]
    with rollup.changing(connection, [row[0] for row in current]):  # the old version out, the new one in
        _insert(connection, "llm_calls", columns, changed, llm_calls, versions)


def _known(connection: sa.Connection, table: str, column: str, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` the table holds already."""
    if not ids:
        return set()
    found = connection.execute(
        sa.text(f"SELECT {column} FROM {table} WHERE {column} IN {_IDS}"), {"ids": json.dumps(list(ids))}
    )
    return {row[0] for row in found}


def _latest_feedback(connection: sa.Connection, call_ids: Sequence[str]) -> dict[str, str]:
    """The latest feedback value of each call that has some (feedback may arrive before its call)."""
    found = sql.execute(connection, "early_feedback", ids=json.dumps(list(call_ids)))
    return {row.call_id: row.value for row in found}


def _insert(
    connection: sa.Connection,
    table: str,
    columns: Sequence[str],
    values: list[tuple[Any, ...]],
    schema: sa.Table,
    version: int | list[int],
    extra: Mapping[str, list[Any]] | None = None,
) -> None:
    if not values:
        return
    arrays = {name: _column([row[i] for row in values], schema.c[name].type) for i, name in enumerate(columns)}
    for name, given in (extra or {}).items():
        arrays[name] = _column(given, llm_calls.c[name].type)
    _insert_columns(connection, table, arrays, version)


def _insert_columns(
    connection: sa.Connection, table: str, arrays: dict[str, pa.Array], version: int | list[int]
) -> None:
    """Insert columns (Arrow arrays of one length) at ``version`` (one for all rows, or one per row)."""
    count = len(next(iter(arrays.values()))) if arrays else 0
    if not count:
        return
    arrays["_version"] = pa.array(version if isinstance(version, list) else [version] * count, pa.uint64())
    data = pa.table(arrays)
    raw: Any = connection.connection.driver_connection
    client = getattr(raw, "client", None)
    if client is not None:  # a server over HTTP: clickhouse-connect sends the table in Arrow's format
        client.insert_arrow(table, data)
        return
    names = ", ".join(data.column_names)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM Python(data)")


def _column(values: list[Any], kind: Any) -> pa.Array:
    arrow = _arrow_type(kind)
    if pa.types.is_decimal(arrow):
        values = [None if v is None else Decimal(v).quantize(_TEN_PLACES) for v in values]
    try:
        return pa.array(values, arrow)
    except (UnicodeEncodeError, pa.ArrowInvalid):  # a lone surrogate: the text any database takes
        return pa.array([rows.clean_str(v) for v in values], arrow)


def _arrow_type(kind: Any) -> pa.DataType:
    if kind is Json or isinstance(kind, sa.JSON) or isinstance(getattr(kind, "impl", None), sa.JSON):
        return pa.string()
    if isinstance(kind, UtcTimestamp):
        return pa.timestamp("us", tz="UTC")
    if kind is Money or (isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float)):
        return pa.decimal128(20, 10)
    if isinstance(kind, sa.Float):
        return pa.float64()
    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.Integer):
        return pa.int64()
    return pa.string()


def _with(row: tuple[Any, ...], position: int, value: Any) -> tuple[Any, ...]:
    return (*row[:position], value, *row[position + 1 :])
