"""PostgreSQL's fast write: COPY, falling back to a temporary table and INSERT ... ON CONFLICT DO NOTHING when
some rows are stored already (a retry, or the spool replayed)."""

from __future__ import annotations

from typing import Any

import psycopg
import sqlalchemy as sa

from obs.store import rows


def copy(
    connection: sa.Connection,
    codec: rows.TableCodec,
    values: list[tuple[Any, ...]],
    new_ids: list[str] | None,
    copy_text: bytearray | None = None,
) -> int:
    """COPY rows in (``copy_text``: the same rows formatted ahead, see ``Codecs.finish``); if some ids exist
    already (a retry or a replay), COPY to a temp table and skip those."""
    table, columns = codec.table.name, ", ".join(codec.columns)
    raw = connection.connection.driver_connection
    assert raw is not None
    if copy_text is not None and raw.info.encoding != "utf-8":  # formatted as UTF-8: the client must expect it
        copy_text = None

    def send(copy: psycopg.Copy) -> None:
        if copy_text is not None:
            copy.write(copy_text)
            return
        for row in values:
            copy.write_row(row)

    try:
        with (
            connection.begin_nested(),
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            send(copy)
        if new_ids is not None:
            new_ids.extend(row[0] for row in values)
        return len(values)
    except psycopg.errors.UniqueViolation:
        pass
    with raw.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS obs_incoming_{table} (LIKE {table}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE obs_incoming_{table}")
        with cursor.copy(f"COPY obs_incoming_{table} ({columns}) FROM STDIN") as copy:
            send(copy)
        tail = f" RETURNING {codec.columns[0]}" if new_ids is not None else ""
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM obs_incoming_{table} ON CONFLICT DO NOTHING{tail}"
        )
        if new_ids is not None:
            new_ids.extend(row[0] for row in cursor.fetchall())
        return max(int(cursor.rowcount), 0)
