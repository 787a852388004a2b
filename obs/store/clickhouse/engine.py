"""Engines for ClickHouse URLs: ``chdb:///folder[?database=obs]`` (embedded) and ``clickhouse://...`` (HTTP)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import URL, Engine

from obs.store.clickhouse.dialect import DEFAULT_DATABASE

registry.register("chdb", "obs.store.clickhouse.dialect", "ChdbDialect")
registry.register("clickhouse", "obs.store.clickhouse.dialect", "HttpDialect")

#: Settings of every connection, so that the SQL shared with the other databases means the same here: reads see
#: each row's latest version (FINAL); an outer join's missing side is NULL (not the type's default value);
#: CAST(NULL AS TEXT) is NULL (an unset filter); a bare UNION is UNION DISTINCT, as in standard SQL; a column's
#: name means the column, not an alias of the same name (MIN(user_id) AS user_id); an aggregate over no rows is
#: NULL (MAX(ts) of an empty store), not the type's default (1970-01-01).
SETTINGS = {"final": "1", "join_use_nulls": "1", "cast_keep_nullable": "1", "union_default_mode": "'DISTINCT'",
            "prefer_column_name_to_alias": "1", "aggregate_functions_null_for_empty": "1"}  # fmt: skip


def create_engine(url: URL) -> Engine:
    """An engine on the database the URL names (created when missing): ``?database=`` for chdb, the path for HTTP."""
    if url.get_backend_name() == "chdb":
        return _chdb_engine(url)
    # clickhouse-connect takes the URL's query as settings of every query.
    return sa.create_engine(url.update_query_dict({k: v for k, v in SETTINGS.items() if k not in url.query}))


def database_of(url: URL) -> str:
    """The ClickHouse database obs uses at this URL."""
    if url.get_backend_name() == "chdb":
        name = url.query.get("database", DEFAULT_DATABASE)
        return name if isinstance(name, str) else name[0]
    return url.database or "default"


def _chdb_engine(url: URL) -> Engine:
    folder = Path(url.database or "").expanduser()
    if not url.database:
        raise ValueError("a chdb URL names its data folder: chdb:///path/to/folder")
    folder.mkdir(parents=True, exist_ok=True)
    database = database_of(url)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise ValueError(f"a ClickHouse database name is letters, digits and _ only, not {database!r}")
    engine = sa.create_engine(url.set(database=str(folder.resolve()), query={}))

    @event.listens_for(engine, "connect")
    def _use(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        cursor.execute(f"USE {database}")
        for name, value in SETTINGS.items():
            cursor.execute(f"SET {name} = {value}")
        cursor.close()

    return engine
