"""SQLAlchemy dialects for ClickHouse, both named ``clickhouse`` (so ``sql/*.clickhouse.sql`` is what they run).

* ``clickhouse://user:pass@host:8123/db``: a server over HTTP, through clickhouse-connect's own dialect.
* ``chdb:///path/to/folder``: ClickHouse embedded in this process (chdb), for one machine and for the tests.
  chdb opens one data folder per process, and no other process may open it meanwhile.

ClickHouse has no transactions: ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` do nothing here, and the store is written
so that it needs none (inserts are idempotent by id, updates are new versions of a row; see ``obs.store.clickhouse``).
"""

from __future__ import annotations

import re
import types
from typing import Any

from clickhouse_connect.cc_sqlalchemy.dialect import ClickHouseDialect
from sqlalchemy.engine import URL

#: The database obs uses when the URL names none.
DEFAULT_DATABASE = "obs"

#: Settings of every connection, so that the SQL shared with the other databases means the same here: reads see
#: each row's latest version (FINAL); an outer join's missing side is NULL (not the type's default value);
#: CAST(NULL AS TEXT) is NULL (an unset filter); a bare UNION is UNION DISTINCT, as in standard SQL; a column's
#: name means the column, not an alias of the same name (MIN(user_id) AS user_id); an aggregate over no rows is
#: NULL (MAX(ts) of an empty store), not the type's default (1970-01-01).
SETTINGS = {"final": "1", "join_use_nulls": "1", "cast_keep_nullable": "1", "union_default_mode": "'DISTINCT'",
            "prefer_column_name_to_alias": "1", "aggregate_functions_null_for_empty": "1"}  # fmt: skip


def database_of(url: URL) -> str:
    """The ClickHouse database obs uses at this URL."""
    if url.get_backend_name() != "chdb":
        return url.database or "default"
    name = url.query.get("database", DEFAULT_DATABASE)
    name = name if isinstance(name, str) else name[0]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"a ClickHouse database name is letters, digits and _ only, not {name!r}")
    return name


class HttpDialect(ClickHouseDialect):
    """A ClickHouse server over HTTP (clickhouse-connect), named ``clickhouse`` like the embedded one."""

    name = "clickhouse"
    supports_statement_cache = False


class ChdbDialect(ClickHouseDialect):
    """ClickHouse in this process (chdb's DB-API: ``%s`` parameters, no transactions)."""

    name = "clickhouse"
    driver = "chdb"
    default_paramstyle = "format"
    supports_statement_cache = False

    @classmethod
    def import_dbapi(cls) -> Any:
        import chdb.dbapi
        import chdb.dbapi.err

        errors = {name: getattr(chdb.dbapi.err, name) for name in dir(chdb.dbapi.err) if name[0].isupper()}
        return types.SimpleNamespace(
            connect=chdb.dbapi.connect, paramstyle="format", apilevel="2.0", threadsafety=1, **errors
        )

    @classmethod
    def dbapi(cls) -> Any:  # type: ignore[override]  # SQLAlchemy 1.x's name, which the base class defines
        return cls.import_dbapi()

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        if not url.database:
            raise ValueError("a chdb URL names its data folder: chdb:///path/to/folder")
        return [url.database], {}

    def on_connect_url(self, url: URL) -> Any:
        """Each new connection uses the URL's database (created when missing) with obs's settings."""
        database = database_of(url)

        def prepare(dbapi_connection: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            cursor.execute(f"USE {database}")
            for name, value in SETTINGS.items():
                cursor.execute(f"SET {name} = {value}")
            cursor.close()

        return prepare

    def initialize(self, connection: Any) -> None:
        self.default_schema_name = connection.exec_driver_sql("SELECT currentDatabase()").scalar()

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.execute(statement, parameters)

    def do_executemany(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.executemany(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        cursor.execute(statement)

    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def do_ping(self, dbapi_connection: Any) -> bool:
        return True

    def _check_unicode_returns(self, connection: Any, additional_tests: Any = None) -> bool:
        return True
