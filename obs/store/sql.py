"""Load and run the queries of ``sql/``: every query the dashboard and the jobs run, one question per file.

``sql/name.sql`` serves both dialects; ``sql/name.postgresql.sql`` / ``sql/name.sqlite.sql`` exist only where
the dialects really differ. Parameters are named (``:start``); datetimes are bound as UTC.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from obs import config
from obs.store import windows
from obs.store.schema import sqlite_text, to_utc


class UnknownQueryError(LookupError):
    """No file in sql/ answers this question."""


#: ``{{name}}`` in a query stands for the fragment ``sql/_name.sql`` (or its ``_name.<dialect>.sql`` variant):
#: ``{{filters}}`` is the time window and the dashboard's filters, ``{{day}}`` / ``{{bucket}}`` the UTC day or
#: the chosen time bucket of ``ts``.
FRAGMENT = re.compile(r"\{\{(\w+)\}\}")
#: The optional filters of the ``{{filters}}`` fragment; a query run without them gets NULL (= all).
FILTER_PARAMS = ("feature", "model", "tenant_id", "user_id", "include_replays")


def names() -> list[str]:
    """Every query name in sql/ (dialect variants folded into one name; ``_`` files are fragments)."""
    return sorted({p.name.split(".")[0] for p in config.SQL_DIR.glob("*.sql") if not p.name.startswith("_")})


@functools.cache
def load(name: str, dialect: str) -> str:
    """The SQL text of ``name`` for ``dialect`` (its variant if one exists, else the shared file), fragments in."""
    text = _read(name, dialect)
    if text is None:
        known = ", ".join(names())
        raise UnknownQueryError(f"no query {name!r} for {dialect} in {config.SQL_DIR} (known: {known})")
    if dialect == "clickhouse":  # chdb reads quotes in comments (e.g. "call's") as strings around a parameter
        text = _without_comments(text)
    return FRAGMENT.sub(lambda m: _fragment(m.group(1), dialect), text)


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def _read(name: str, dialect: str) -> str | None:
    for candidate in (config.SQL_DIR / f"{name}.{dialect}.sql", config.SQL_DIR / f"{name}.sql"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def fragment(name: str, dialect: str) -> str:
    """The text ``{{name}}`` stands for in a query of ``dialect`` (sql/_name.sql or its dialect's variant)."""
    return _fragment(name, dialect)


@functools.cache
def _fragment(name: str, dialect: str) -> str:
    text = _read(f"_{name}", dialect)
    if text is None:
        raise UnknownQueryError(f"no fragment sql/_{name}.sql for {{{{{name}}}}}")
    return FRAGMENT.sub(lambda m: _fragment(m.group(1), dialect), _without_comments(text))  # may hold fragments


def uses_filters(name: str, dialect: str) -> bool:
    """Whether the query takes the shared filters (then missing ones default to NULL)."""
    return ":tenant_id" in load(name, dialect)


def bind_value(value: Any, dialect: str) -> Any:
    """A parameter as the dialect stores it: datetimes in UTC (naive on ClickHouse), fixed-width text on SQLite."""
    if isinstance(value, datetime):
        if dialect == "clickhouse":  # naive UTC: ClickHouse does not read an offset in a DateTime64 literal
            return to_utc(value).replace(tzinfo=None)
        return sqlite_text(value) if dialect == "sqlite" else to_utc(value)
    if isinstance(value, Decimal) and dialect == "sqlite":
        return float(value)
    return value


def execute(connection: sa.Connection, name: str, **params: Any) -> sa.CursorResult[Any]:
    """Run ``sql/name`` on an open connection with named parameters."""
    dialect = connection.dialect.name
    if uses_filters(name, dialect):
        params = {**dict.fromkeys(FILTER_PARAMS), **params}
    text = load(name, dialect)
    if ":hour_start" in text or ":values_start" in text:  # a rollup query: where each part of the window is read
        params = {**{k: v for k, v in windows.spans(params).items() if f":{k}" in text}, **params}
    return connection.execute(sa.text(text), {key: bind_value(value, dialect) for key, value in params.items()})
