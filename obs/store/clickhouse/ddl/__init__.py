"""ClickHouse's schema: versioned DDL files (``NNNN_name.sql`` here), applied in order and recorded in a table.

ClickHouse has no Alembic. Each file is a list of statements separated by ``;``, written once for both modes and
rendered by ``render``:

* one server (``cluster=None``): ``{{table t}}`` is ``t``, ``{{engine E(args)}}`` is ``E(args)``, and
  ``{{on_cluster}}`` and ``{{distributed t key}}`` are nothing;
* ``{{control t}}`` is the table engine reading table t of the control store (``obs.store.clickhouse.control``);
* a cluster (``OBS_CLICKHOUSE_CLUSTER=name``): ``{{table t}}`` is ``t_local``, created ``ON CLUSTER name`` with the
  Replicated engine (its path in ZooKeeper or Keeper from the ``{shard}`` and ``{replica}`` macros), and
  ``{{distributed t key}}`` creates ``t`` as a Distributed table over ``t_local``, sharded by ``key``.

``apply`` runs the files a database has not had yet and records each in ``obs_schema_migrations``; a file that
fails stops the run and is not recorded (every statement is ``IF NOT EXISTS``, so running it again is safe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from obs.store.clickhouse.control import engine_clause

DDL_DIR = Path(__file__).resolve().parent
TABLE = "obs_schema_migrations"
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*(.*?)\s*\}\}", re.DOTALL)
_ENGINE = re.compile(r"(\w+)\s*(?:\((.*)\))?", re.DOTALL)


@dataclass(frozen=True)
class Migration:
    """One DDL file: its version (the number it starts with), name and text."""

    version: int
    name: str
    text: str

    def statements(self, cluster: str | None = None, control: str = "sqlite:///control.db") -> list[str]:
        """The file's statements, rendered for one server or for ``cluster``, reading the control store ``control``."""
        return statements(render(self.text, cluster, control))


def migrations() -> list[Migration]:
    """Every DDL file, oldest first."""
    found = []
    for path in sorted(DDL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        version, _, name = path.stem.partition("_")
        found.append(Migration(int(version), name, path.read_text(encoding="utf-8")))
    return found


def render(text: str, cluster: str | None = None, control: str = "sqlite:///control.db") -> str:
    """The DDL with its placeholders filled in, for one server (``cluster`` None) or a cluster; ``{{control t}}``
    reads table t of the control store at the URL ``control``."""

    def fill(match: re.Match[str]) -> str:
        word, argument = match.group(1), match.group(2)
        if word == "on_cluster":
            return f"ON CLUSTER {_quote(cluster)}" if cluster else ""
        if word == "table":
            return f"{argument}_local" if cluster else argument
        if word == "engine":
            return _engine(argument, cluster, _table_of(text, match.start()))
        if word == "control":
            return engine_clause(control, argument)
        if word == "distributed":
            table, _, key = argument.partition(" ")
            if not cluster:
                return ""
            name = _quote(cluster)
            return (f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {name} AS {table}_local "
                    f"ENGINE = Distributed({name}, currentDatabase(), {table}_local, {key.strip()})")  # fmt: skip
        raise ValueError(f"unknown placeholder {{{{{word}}}}} in ClickHouse DDL")

    text = _without_comments(text)
    return _PLACEHOLDER.sub(fill, text)


def statements(text: str) -> list[str]:
    """The statements of a DDL text: split at ``;``, without comments and empty ones."""
    return [s.strip() for s in _without_comments(text).split(";") if s.strip()]


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def apply(connection: sa.Connection, cluster: str | None = None, control: str = "sqlite:///control.db") -> list[int]:
    """Run the DDL files this database has not had yet, in order; returns the versions applied."""
    on_cluster = f" ON CLUSTER {_quote(cluster)}" if cluster else ""
    engine = "ReplicatedMergeTree" if cluster else "MergeTree"  # the path and replica come from the macros' defaults
    connection.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {TABLE}{on_cluster} (version UInt32, name String, "
        f"applied_at DateTime64(6, 'UTC') DEFAULT now64(6)) ENGINE = {engine} ORDER BY version"
    )
    done = {row[0] for row in connection.exec_driver_sql(f"SELECT version FROM {TABLE}")}
    applied = []
    for migration in migrations():
        if migration.version in done:
            continue
        for statement in migration.statements(cluster, control):
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(
            f"INSERT INTO {TABLE} (version, name) VALUES ({migration.version}, '{migration.name}')"
        )
        applied.append(migration.version)
    return applied


def current_version(connection: sa.Connection) -> int | None:
    """The newest DDL file applied to this database (None when none was)."""
    exists = connection.exec_driver_sql(f"EXISTS TABLE {TABLE}").scalar()
    if not exists:
        return None
    newest = connection.exec_driver_sql(f"SELECT max(version) FROM {TABLE}").scalar()
    return None if newest is None else int(newest)


def head_version() -> int:
    """The newest DDL file obs has."""
    return migrations()[-1].version


def _engine(spec: str, cluster: str | None, table: str) -> str:
    if not cluster:
        return spec
    match = _ENGINE.fullmatch(spec.strip())
    if match is None:
        raise ValueError(f"cannot read the engine {spec!r}")
    name, args = match.group(1), (match.group(2) or "").strip()
    path = f"'/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'"
    return f"Replicated{name}({path}{', ' + args if args else ''})"


def _table_of(text: str, position: int) -> str:
    """The table a placeholder at ``position`` belongs to: the last ``{{table name}}`` before it."""
    tables = re.findall(r"\{\{\s*table\s+(\w+)\s*\}\}", text[:position])
    if not tables:
        raise ValueError("an {{engine ...}} placeholder comes before any {{table ...}}")
    return str(tables[-1])


def _quote(identifier: str | None) -> str:
    assert identifier
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", identifier):
        raise ValueError(f"a ClickHouse cluster name is letters, digits and _ only, not {identifier!r}")
    return identifier
