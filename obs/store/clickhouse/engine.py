"""Engines for ClickHouse URLs: ``chdb:///folder[?database=obs]`` (embedded) and ``clickhouse://...`` (HTTP)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import registry
from sqlalchemy.engine import URL, Engine

from obs.store.clickhouse.dialect import SETTINGS, database_of

registry.register("chdb", "obs.store.clickhouse.dialect", "ChdbDialect")
registry.register("clickhouse", "obs.store.clickhouse.dialect", "HttpDialect")


def create_engine(url: URL) -> Engine:
    """An engine on the database the URL names (created when missing): ``?database=`` for chdb, the path for HTTP."""
    if url.get_backend_name() == "chdb":
        return _chdb_engine(url)
    # clickhouse-connect takes the URL's query as settings of every query.
    return sa.create_engine(url.update_query_dict({k: v for k, v in SETTINGS.items() if k not in url.query}))


def _chdb_engine(url: URL) -> Engine:
    folder = Path(url.database or "").expanduser()
    if not url.database:
        raise ValueError("a chdb URL names its data folder: chdb:///path/to/folder")
    folder.mkdir(parents=True, exist_ok=True)
    database_of(url)  # checked before the first connection
    # The dialect selects the database and sets SETTINGS on each connection (ChdbDialect.on_connect_url).
    return sa.create_engine(url.set(database=str(folder.resolve())))
