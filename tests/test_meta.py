"""House rules that keep the code honest: SQL in sql/, streamlit only in the UI, commands in the README."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

from obs import config
from obs.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_cli_command_appears_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in main.commands:
        assert re.search(rf"\bobs {command}\b", readme), command


def test_dialect_variants_come_in_pairs_and_never_beside_a_shared_file() -> None:
    """SQLite and PostgreSQL variants come in pairs, never beside a shared file; a ClickHouse variant stands beside
    either (it exists only where ClickHouse's SQL differs from the shared file, or from both variants)."""
    files = {p.name for p in config.SQL_DIR.glob("*.sql")}
    for name in files:
        base, *dialect, _ = name.split(".")
        if dialect == ["clickhouse"]:
            assert f"{base}.sql" in files or f"{base}.postgresql.sql" in files, name
        elif dialect:
            assert f"{base}.postgresql.sql" in files and f"{base}.sqlite.sql" in files, name
            assert f"{base}.sql" not in files, name


def test_sql_comments_hold_no_bind_parameter_lookalikes() -> None:
    # sqlalchemy.text() would take ":name" inside a comment as a parameter.
    for path in config.SQL_DIR.glob("*.sql"):
        for line in path.read_text().splitlines():
            if "--" in line:
                assert not re.search(r"(?<!:):[a-z_]+", line.split("--", 1)[1]), f"{path.name}: {line}"


def test_only_the_ui_imports_streamlit() -> None:
    for path in (ROOT / "obs").rglob("*.py"):
        if "ui" not in path.relative_to(ROOT / "obs").parts[:1] and path.name != "ui.py":
            assert "streamlit" not in _imports(path), path


def test_pages_hold_no_sql_and_no_database_code() -> None:
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        assert not {"sqlalchemy", "psycopg", "sqlite3", "openai"} & _imports(path), path
        assert not re.search(r"\bSELECT\b|\bFROM llm_calls\b", path.read_text()), path


def test_library_never_imports_the_dashboard() -> None:
    for path in (ROOT / "obs").rglob("*.py"):
        assert not {"app", "pages"} & _imports(path), path


def test_no_module_is_over_400_lines() -> None:
    # STYLE.md 9: a file past ~400 lines is asking to be split along a seam that has a name.
    long = {
        str(path.relative_to(ROOT)): lines
        for path in [*(ROOT / "obs").rglob("*.py"), ROOT / "app.py", *(ROOT / "pages").glob("*.py")]
        if (lines := len(path.read_text().splitlines())) > 400
    }
    assert not long, long


def test_every_import_the_readme_shows_works() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"^from (obs[\w.]*) import ([\w, ]+)$", readme, re.M)
    assert shown, "the README shows no `from obs... import` line any more: update this test"
    for module, names in shown:
        imported = importlib.import_module(module)
        for name in names.split(","):
            assert hasattr(imported, name.strip()) or importlib.util.find_spec(f"{module}.{name.strip()}"), (
                f"README: from {module} import {name.strip()}"
            )
