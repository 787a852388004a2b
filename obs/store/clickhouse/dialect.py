"""SQLAlchemy dialects for ClickHouse, both named ``clickhouse`` (so ``sql/*.clickhouse.sql`` is what they run).

* ``clickhouse://user:pass@host:8123/db``: a server over HTTP, through clickhouse-connect's own dialect.
* ``chdb:///path/to/folder``: ClickHouse embedded in this process (chdb), for one machine and for the tests.
  chdb opens one data folder per process, and no other process may open it meanwhile.

ClickHouse has no transactions: ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` do nothing here, and the store is written
so that it needs none (inserts are idempotent by id, updates are new versions of a row; see ``obs.store.clickhouse``).
"""

from __future__ import annotations

import types
from typing import Any

from clickhouse_connect.cc_sqlalchemy.dialect import ClickHouseDialect
from sqlalchemy.engine import URL

#: The database obs uses when the URL names none.
DEFAULT_DATABASE = "obs"


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
