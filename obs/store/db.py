"""Engines and migrations: one way to open the store, whatever the dialect."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from obs import config
from obs.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


#: Content may hold values JSON cannot encode (bytes, datetimes): store their text rather than fail the batch.
_json_dumps = functools.partial(json.dumps, default=str, ensure_ascii=False)


class StoreError(UserError):
    """A problem with the store that a person can fix; the message is one clear line."""


class StoreUrlError(StoreError):
    """A store URL that cannot be used (wrong, or its database unreachable). The message says where the URL came
    from as far as the environment tells; a caller that knows better (the CLI's --database-url) calls describe."""

    def __init__(self, url: str | URL, problem: str) -> None:
        self.url, self.problem = url, problem
        super().__init__(self.describe())

    def describe(self, source: str | None = None) -> str:
        """The one-line message, naming ``source`` (e.g. "from --database-url") as where the URL came from."""
        return f"cannot use the database at {display_url(self.url)} ({source or url_source(self.url)}): {self.problem}"


def display_url(url: str | URL) -> str:
    """The URL with any password masked, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def create_engine(url: str | None = None) -> Engine:
    """An engine for the store URL (OBS_DATABASE_URL by default), SQLite tuned for several writers."""
    raw = config.normalize_database_url(url) if url else config.database_url()
    try:
        parsed = make_url(raw)
    except sa.exc.ArgumentError:
        raise StoreUrlError(
            raw, "this is not a database URL; expected e.g. sqlite:///obs.db or postgresql://user@host:5432/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() in CLICKHOUSE_BACKENDS:
        return _clickhouse_engine(parsed)
    if parsed.get_backend_name() != "postgresql":
        raise StoreUrlError(
            parsed, f"obs stores calls in SQLite, PostgreSQL or ClickHouse, not {parsed.get_backend_name()}"
        )
    try:
        # Sessions in UTC, so date_trunc('day', ts) in the seed guide's SQL means the UTC day.
        connect_args = {} if "options" in parsed.query else {"options": "-c TimeZone=UTC"}
        return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise StoreUrlError(parsed, f"driver not installed ({exc.name})") from None


def dialect_of(url: str) -> str:
    """ "sqlite", "postgresql" or "clickhouse" for a store URL, without connecting."""
    backend = make_url(config.normalize_database_url(url)).get_backend_name()
    return "clickhouse" if backend in CLICKHOUSE_BACKENDS else backend


#: ClickHouse: embedded in the process (chdb:///folder) or a server over HTTP (clickhouse://host:8123/db).
CLICKHOUSE_BACKENDS = ("chdb", "clickhouse")


def _clickhouse_engine(url: URL) -> Engine:
    try:
        from obs.store.clickhouse import engine
    except ModuleNotFoundError as exc:
        raise StoreUrlError(url, f"ClickHouse needs {exc.name}: pip install 'obs[clickhouse]'") from None
    try:
        return engine.create_engine(url)
    except (ValueError, ModuleNotFoundError) as exc:
        raise StoreUrlError(url, str(exc)) from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreUrlError(url, f"folder {folder} does not exist")
    engine = sa.create_engine(url, json_serializer=_json_dumps)

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer; busy_timeout: writers from other processes queue up.
        cursor.execute(f"PRAGMA busy_timeout = {config.SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def _alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration obs knows."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, None when it has never been initialised."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` (Alembic), safe when several processes race."""
    with engine.connect() as connection:
        # Two processes starting at once: one migrates, the other waits for it and then finds nothing to do.
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # holds the write lock through every DDL statement
        else:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(727172)"))
        command.upgrade(_alembic_config(connection), revision)
        connection.commit()


def ensure_schema(engine: Engine) -> None:
    """Migrate to head if the database is behind (first use creates everything)."""
    try:
        if current_revision(engine) != head_revision():
            migrate(engine)
    except sa.exc.OperationalError as exc:
        raise StoreUrlError(engine.url, _first_line(exc)) from None


def describe_connection_error(exc: BaseException, url: str | URL, source: str | None = None) -> str:
    """One line saying which database could not be used, where its URL came from and why."""
    return StoreUrlError(url, _first_line(exc)).describe(source)


def url_source(url: str | URL) -> str:
    """Where a store URL came from, as far as the environment tells: $OBS_DATABASE_URL, the default, or the caller."""
    configured = os.environ.get(config.ENV_DATABASE_URL)
    source = f"from ${config.ENV_DATABASE_URL}" if configured else f"the default {config.DEFAULT_DATABASE_URL}"
    expected = config.normalize_database_url(configured or config.DEFAULT_DATABASE_URL)
    given = url.render_as_string(hide_password=False) if isinstance(url, URL) else config.normalize_database_url(url)
    try:
        same = given == expected or make_url(given) == make_url(expected)
    except sa.exc.ArgumentError:
        same = False
    return source if same else "given by the caller"


def _first_line(exc: BaseException) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return reason[0] if reason else type(exc).__name__
