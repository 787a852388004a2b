"""The `obs` command: init, stats, recost; a wrong database URL is one clear line, not a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from obs.cli.main import main
from obs.store import db, queries
from obs.store.store import Store
from tests.factories import make_call

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def obs(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_init_creates_the_schema_then_reports_it_is_current(db_url: str, open_store: Callable[..., Store]) -> None:
    code, out = obs("init", "--database-url", db_url)
    assert code == 0 and f"upgraded from empty to revision {db.head_revision()}" in out
    code, out = obs("init", env={"OBS_DATABASE_URL": db_url})
    assert code == 0 and f"already at revision {db.head_revision()}" in out
    assert db.current_revision(open_store(db_url, migrate=False).engine) == db.head_revision()


def test_stats_counts_calls_traces_unpriced_and_errors(store: Store, db_url: str) -> None:
    store.write_batch(
        [
            make_call(T0, call_id="a", trace_id="t1", cost_usd=Decimal("0.5")),
            make_call(T0, call_id="b", trace_id="t1", cost_usd=Decimal("0.25")),
            make_call(T0, call_id="c", trace_id="t2", model="my-finetune"),
            make_call(
                T0, call_id="d", trace_id="t3", status="error", error="boom", prompt_tokens=None, completion_tokens=None
            ),  # failed before any usage: no cost, not unpriced
        ]
    )
    code, out = obs("stats", "--database-url", db_url)
    assert code == 0
    lines = dict(line.split(None, 1) if " " in line else (line, "") for line in out.splitlines())
    assert out.splitlines()[1].split() == ["calls", "4"]
    assert out.splitlines()[2].split() == ["traces", "3"]
    assert out.splitlines()[3].startswith("unpriced   1 calls")
    assert out.splitlines()[4].split() == ["errors", "1"]
    assert "$0.7500 (priced calls only)" in out
    assert "2026-11-20 12:00:00 UTC" in lines["first"]


def test_recost_applies_a_new_override_and_respects_since(store: Store, db_url: str, tmp_path: Path) -> None:
    old, new = T0 - timedelta(days=10), T0
    store.write_batch(
        [
            make_call(old, call_id="old", prompt_tokens=1234, completion_tokens=156, cost_usd=Decimal("0.0006205")),
            make_call(new, call_id="new", prompt_tokens=1234, completion_tokens=156, cost_usd=Decimal("0.0006205")),
            make_call(new, call_id="mine", model="my-finetune", prompt_tokens=1000, completion_tokens=1000),
        ]
    )
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."gpt-5-mini"]\ninput = 1\noutput = 4\n[models."my-finetune"]\ninput = 1\noutput = 1\n')
    env = {"OBS_DATABASE_URL": db_url, "OBS_PRICES_FILE": str(prices)}
    code, out = obs("recost", "--since", (T0 - timedelta(days=1)).strftime("%Y-%m-%d"), env=env)
    assert code == 0, out
    assert "repriced 2 calls since 2026-11-19 00:00 UTC: 2 changed, 0 unpriced" in out
    assert store.get_call("new").cost_usd == Decimal("0.001858")  # type: ignore[union-attr]
    assert store.get_call("mine").cost_usd == Decimal("0.002")  # type: ignore[union-attr]
    assert store.get_call("old").cost_usd == Decimal("0.0006205")  # type: ignore[union-attr]
    code, out = obs("recost", env=env)
    assert "repriced 3 calls: 1 changed, 0 unpriced" in out


def test_recost_without_overrides_leaves_unknown_models_unpriced(store: Store, db_url: str) -> None:
    store.write_batch(
        [
            make_call(T0, call_id="known", prompt_tokens=1234, completion_tokens=156),
            make_call(T0, call_id="unknown", model="my-finetune", cost_usd=Decimal(1)),
        ]
    )
    code, out = obs("recost", "--database-url", db_url)
    assert code == 0 and "repriced 2 calls: 2 changed, 1 unpriced" in out
    assert store.get_call("known").cost_usd == Decimal("0.0006205")  # type: ignore[union-attr]
    assert store.get_call("unknown").cost_usd is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot use the database at postgresql+psycopg://postgres@127.0.0.1:1/nowhere"),
        ("not a url", "is not a database URL"),
        ("mysql://u@h/db", "obs stores calls in SQLite, PostgreSQL or ClickHouse, not mysql"),
        ("sqlite:////no/such/folder/obs.db", "folder /no/such/folder does not exist"),
    ],
)  # fmt: skip
def test_wrong_database_url_is_one_clear_line(url: str, message: str) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "obs"), "stats"],
        env={"OBS_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_password_in_a_wrong_url_is_not_printed() -> None:
    code, out = obs("stats", "--database-url", "postgresql://bob:s3cret@127.0.0.1:1/x")
    assert code == 1 and "s3cret" not in out and "bob:***@" in out


def test_bad_price_file_is_one_clear_line(sqlite_url: str, tmp_path: Path) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text('[models."m"]\ninput = 1\n')
    code, out = obs("recost", env={"OBS_DATABASE_URL": sqlite_url, "OBS_PRICES_FILE": str(prices)})
    assert code == 1 and out.strip() == f"Error: {prices}: model 'm' is missing 'output' ($ per million tokens)"


def test_dashboard_refuses_a_public_address_without_a_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBS_DASHBOARD_PASSWORD", raising=False)
    code, out = obs("dashboard", "--host", "0.0.0.0")
    assert code == 1 and "refusing to serve full prompts on 0.0.0.0 without a login" in out
    assert "OBS_DASHBOARD_PASSWORD" in out


def test_rollup_rebuild_recounts_the_rollups_after_sql_of_your_own(store: Store, db_url: str) -> None:
    when = datetime.now(UTC) - timedelta(hours=2)
    store.write_batch([make_call(when, call_id=f"c{i}") for i in range(5)])
    window = {"start": when - timedelta(days=1), "end": when + timedelta(days=1)}
    with store.engine.begin() as connection:  # a change behind the writer's back: the rollups do not see it
        connection.exec_driver_sql("DELETE FROM llm_calls WHERE id = 'c0'")
    assert queries.run("overview_kpis", db=store, **window).iloc[0]["calls"] == 5
    assert obs("rollup", "rebuild", "--database-url", db_url) == (0, "rebuilt the rollups from 4 calls\n")
    assert queries.run("overview_kpis", db=store, **window).iloc[0]["calls"] == 4


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


@pytest.mark.parametrize(
    ("args", "env_url", "source"),
    [
        (["stats", "--database-url", "{down}"], "sqlite:///elsewhere.db", "(from --database-url)"),
        (["--database-url", "{down}", "stats"], "sqlite:///elsewhere.db", "(from --database-url)"),
        (["stats"], "{down}", "(from $OBS_DATABASE_URL)"),
    ],
    ids=["command-flag", "global-flag", "environment"],
)
def test_an_unreachable_postgresql_names_where_its_url_came_from(args: list[str], env_url: str, source: str) -> None:
    down = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"
    code, out = obs(*(a.format(down=down) for a in args), env={"OBS_DATABASE_URL": env_url.format(down=down)})
    assert code == 1
    assert out.startswith(f"Error: cannot use the database at {db.display_url(down.replace('://', '+psycopg://'))}")
    assert source in out and "Connection refused" in out, out


def test_an_unusable_default_store_is_named_as_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default is a SQLite file in the working directory: a folder in its place cannot be opened.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "obs.db").mkdir()
    code, out = obs("stats", env={"OBS_DATABASE_URL": None})  # type: ignore[dict-item]
    assert code == 1
    assert out.strip() == "Error: cannot use the database at sqlite:///obs.db (the default sqlite:///obs.db): " + (
        "unable to open database file"
    )


def test_a_url_that_is_no_url_names_the_flag_not_the_environment() -> None:
    code, out = obs("--database-url", "not a url", "stats", env={"OBS_DATABASE_URL": "sqlite:///elsewhere.db"})
    assert code == 1 and "(from --database-url): this is not a database URL" in out, out


def test_the_global_database_url_reaches_the_commands_of_nested_groups(store: Store, db_url: str) -> None:
    store.write_batch([make_call(T0, call_id="a")])
    elsewhere = {"OBS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"}
    code, out = obs("--database-url", db_url, "rollup", "rebuild", env=elsewhere)
    assert (code, out) == (0, "rebuilt the rollups from 1 calls\n")
    code, out = obs("--database-url", db_url, "alerts", "rules", env=elsewhere)
    assert code == 0 and "on " in out, out
    code, out = obs("--database-url", db_url, "evals", "list", env=elsewhere)
    assert code == 0 and "no datasets yet" in out, out
    code, out = obs("--database-url", db_url, "replay", "--show-run", "none", env=elsewhere)
    assert code == 1 and "cannot use the database" not in out, out


def test_a_commands_own_database_url_wins_over_the_global_one(store: Store, db_url: str) -> None:
    down = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"
    code, out = obs("--database-url", down, "stats", "--database-url", db_url)
    assert code == 0 and out.splitlines()[1].split() == ["calls", "0"], out
