"""The control store beside ClickHouse: the small tables people change (eval cases, alert rules, events and
notifications, replay runs) in a SQLite file or a PostgreSQL database, where rows are updated and deleted in
transactions, ids count up and names stay unique, as on the other stores.

ClickHouse reads them too: each is also a ClickHouse table with the SQLite or PostgreSQL table engine (ddl/0002),
so the queries of sql/ join them with the calls as they do elsewhere.

* chdb (``chdb:///folder?database=obs``): ``sqlite:///folder/control-obs.db`` unless OBS_CLICKHOUSE_CONTROL_URL says.
* a server (``clickhouse://...``): OBS_CLICKHOUSE_CONTROL_URL, a PostgreSQL database the ClickHouse server can reach.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from obs import config
from obs.store.schema import alert_events, alert_notifications, alert_rules, eval_cases, replay_run_items, replay_runs

ENV_CONTROL_URL = config.ENV_CLICKHOUSE_CONTROL_URL
#: The control tables, in creation order (a table before those that refer to it).
TABLES = (eval_cases, alert_rules, alert_events, alert_notifications, replay_runs, replay_run_items)


def control_url(store_url: URL, database: str) -> str:
    """Where the control tables of the ClickHouse store at ``store_url`` (database ``database``) live."""
    given = os.environ.get(ENV_CONTROL_URL, "").strip()
    if given:
        return config.normalize_database_url(given)
    if store_url.get_backend_name() == "chdb":
        return f"sqlite:///{store_url.database}/control-{database}.db"
    raise ValueError(
        f"a ClickHouse server keeps its eval cases, alert rules and replay runs in PostgreSQL: set {ENV_CONTROL_URL} "
        "to a PostgreSQL URL the server can reach (e.g. postgresql://obs@db:5432/obs_control)"
    )


def create(engine: Engine) -> None:
    """Create the control tables that are missing (their references to the calls, which live in ClickHouse, left
    out: a call's eval cases are kept or removed by the store's own code)."""
    metadata = sa.MetaData()
    for table in TABLES:
        _without_calls(table, metadata)
    metadata.create_all(engine)


def _without_calls(table: sa.Table, metadata: sa.MetaData) -> sa.Table:
    """A copy of ``table`` in ``metadata`` without its foreign keys to llm_calls."""
    columns = []
    for column in table.columns:
        keys = [sa.ForeignKey(fk.target_fullname, ondelete=fk.ondelete) for fk in column.foreign_keys
                if not fk.target_fullname.startswith("llm_calls.")]  # fmt: skip
        columns.append(sa.Column(column.name, column.type, *keys, primary_key=column.primary_key,
                                 nullable=column.nullable, autoincrement=column.autoincrement))  # fmt: skip
    uniques = [sa.UniqueConstraint(*(c.name for c in u.columns)) for u in table.constraints
               if isinstance(u, sa.UniqueConstraint)]  # fmt: skip
    indexes = [sa.Index(None, *(c.name for c in i.columns)) for i in table.indexes]
    return sa.Table(table.name, metadata, *columns, *uniques, *indexes)


def engine_clause(url: str, table: str) -> str:
    """The ClickHouse table engine that reads ``table`` of the control store at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite({_literal(parsed.database or '')}, {_literal(table)})"
    if parsed.get_backend_name() == "postgresql":
        host = f"{parsed.host or '127.0.0.1'}:{parsed.port or 5432}"
        parts = [host, parsed.database or "postgres", table, parsed.username or "postgres", parsed.password or ""]
        return f"PostgreSQL({', '.join(_literal(p) for p in parts)})"
    raise ValueError(f"the control store is SQLite or PostgreSQL, not {parsed.get_backend_name()}")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
