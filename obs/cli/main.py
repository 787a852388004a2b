"""The `obs` command: a thin layer over the library (parsing and printing only)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from obs import config
from obs.cli.alerts import alerts
from obs.cli.collector import collector
from obs.cli.evals import evals
from obs.cli.options import database_url_option, friendly_errors, is_loopback, when
from obs.cli.privacy import privacy, retention_group
from obs.cli.proxy import proxy
from obs.cli.replay import replay
from obs.pricing.prices import default_pricer
from obs.pricing.recost import recost
from obs.recorder.queue import Recorder
from obs.store import db, rollup
from obs.store.store import Store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help=f"Store URL for every command (a command's own --database-url wins); defaults to "
    f"${config.ENV_DATABASE_URL}, else {config.DEFAULT_DATABASE_URL}.",
)
@click.version_option(package_name="obs")
def main(database_url: str | None) -> None:  # each command reads it from the context (database_url_option)
    """obs: record every LLM call, see what it cost, replay it."""


@main.command()
@database_url_option
@friendly_errors
def init(database_url: str | None) -> None:
    """Create the store's tables, or upgrade them to the newest schema."""
    store = Store(database_url, migrate=False)
    before = db.current_revision(store.engine)
    db.migrate(store.engine)
    after = db.current_revision(store.engine)
    where = db.display_url(store.engine.url)
    if before == after:
        click.echo(f"{where}: schema already at revision {after} (newest)")
    else:
        click.echo(f"{where}: schema upgraded from {before or 'empty'} to revision {after}")


@main.command()
@database_url_option
@friendly_errors
def stats(database_url: str | None) -> None:
    """Calls, traces, unpriced calls, errors, total cost and size of the store."""
    store = Store(database_url)
    s = store.stats()
    cost = "n/a" if s.total_cost_usd is None else f"${s.total_cost_usd:,.4f}"
    lines = [
        ("store", db.display_url(store.engine.url)),
        ("calls", f"{s.calls:,}"),
        ("traces", f"{s.traces:,}"),
        ("unpriced", f"{s.unpriced_calls:,} calls (no known price; not counted as $0)"),
        ("errors", f"{s.errors:,}"),
        ("total cost", cost + (" (priced calls only)" if s.unpriced_calls else "")),
        ("first call", when(s.first_ts)),
        ("last call", when(s.last_ts)),
        ("size", _bytes(s.size_bytes)),
    ]
    for label, value in lines:
        click.echo(f"{label:<11}{value}")


@main.command(name="recost")
@database_url_option
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="Only calls at or after this UTC date/time (default: all calls).",
)
@friendly_errors
def recost_command(database_url: str | None, since: datetime | None) -> None:
    """Recompute stored costs with current prices (genai-prices and $OBS_PRICES_FILE)."""
    pricer = default_pricer()
    store = Store(database_url)
    since_utc = since.replace(tzinfo=UTC) if since else None

    def progress(scanned: int) -> None:
        click.echo(f"\rrepriced {scanned:,} calls...", nl=False, err=True)

    result = recost(store, pricer, since_utc, progress=progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty() and result.scanned:
        click.echo(err=True)
    scope = f" since {since_utc:%Y-%m-%d %H:%M} UTC" if since_utc else ""
    click.echo(
        f"repriced {result.scanned:,} calls{scope}: {result.changed:,} changed, "
        f"{result.unpriced:,} unpriced (no known price)"
    )


@main.command()
@database_url_option
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="Days of history.")
@click.option("--calls", type=click.IntRange(10), default=3000, show_default=True, help="Calls to backfill.")
@click.option("--live", type=click.IntRange(0), default=30, show_default=True, help="Live questions after it.")
@click.option("--reset", is_flag=True, help="Delete everything in the store first.")
@click.option("--seed", type=int, default=None, help="Seed for a reproducible run.")
@friendly_errors
def demo(database_url: str | None, days: int, calls: int, live: int, reset: bool, seed: int | None) -> None:
    """Fill the store with realistic demo traffic through the real SDKs (offline, no API key)."""
    try:
        from obs.demo.run import run_demo
    except ImportError as exc:
        raise click.ClickException(
            f"the demo needs the openai and anthropic SDKs ({exc}): pip install 'obs[dashboard]'"
        ) from None

    click.echo(f"Backfilling {calls:,} calls over {days} days through the demo provider (offline)...")
    with click.progressbar(length=calls, label="calls", show_pos=True) as bar:
        summary = run_demo(
            database_url=database_url, days=days, calls=calls, live=live, reset=reset, seed=seed,
            progress=lambda n: bar.update(max(0, min(n, calls - bar.pos))),  # the last flows may run a few over
        )  # fmt: skip
    s = summary.store
    cost = "n/a" if s.total_cost_usd is None else f"${s.total_cost_usd:,.2f}"
    click.echo(
        f"Made {summary.calls_made:,} calls ({summary.live_questions} live questions). The store now holds "
        f"{s.calls:,} calls in {s.traces:,} traces, {cost} spent ({s.unpriced_calls:,} unpriced), "
        f"{s.errors:,} errors, from {when(s.first_ts)} to {when(s.last_ts)}."
    )
    click.echo(f"Store: {summary.database_url}")
    if summary.alerts:
        click.echo(f"Alerts firing ({len(summary.alerts)}; see the dashboard's overview):")
        for message in summary.alerts:
            click.echo(f"  {message}")


@main.command()
@database_url_option
@click.option("--host", default=config.DASHBOARD_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=config.DASHBOARD_PORT, show_default=True)
@friendly_errors
def dashboard(database_url: str | None, host: str, port: int) -> None:
    """Serve the dashboard (Streamlit). Loopback only unless a password or OIDC login is configured."""
    if not is_loopback(host) and not os.environ.get(config.ENV_DASHBOARD_PASSWORD) and not _oidc_secrets():
        raise click.ClickException(
            f"refusing to serve full prompts on {host} without a login: set {config.ENV_DASHBOARD_PASSWORD}, "
            "or configure Streamlit's OIDC login ([auth] in .streamlit/secrets.toml), or use --host 127.0.0.1"
        )
    env = dict(os.environ)
    if database_url:
        env[config.ENV_DATABASE_URL] = database_url
    Store(database_url).close()  # a wrong URL fails here, with one line, not in the browser
    click.echo(f"Dashboard: http://{host}:{port}  (Ctrl+C stops it)")
    # -P: obs is imported from where this process found it, never from a folder named obs in the working directory.
    # No file watcher: it is for editing an app, and watchdog's inotify watches see every open of every file near
    # the app (a virtualenv inside the checkout), overflow under load and block the server on their warnings.
    command = [
        sys.executable, "-P", "-m", "obs.cli.dashboard_server", str(config.APP_PATH), "--server.address", host,
        "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal", "--client.showSidebarNavigation",
        "false",
    ]  # fmt: skip
    # exec, not a child process: a supervisor's (or a test's) SIGTERM then stops Streamlit itself, never orphans it;
    # obs.cli.dashboard_server makes sure it stops within config.DASHBOARD_STOP_TIMEOUT_S. The working directory stays
    # the user's: a relative SQLite path and .streamlit/ (secrets, login) are theirs.
    sys.stdout.flush()
    os.execve(sys.executable, command, env)


def _oidc_secrets() -> bool:
    """Whether Streamlit will find a login: its secrets files are the working directory's and the user's."""
    for folder in (Path.cwd(), Path.home()):
        secrets = folder / ".streamlit" / "secrets.toml"
        if secrets.is_file() and "[auth" in secrets.read_text(encoding="utf-8"):
            return True
    return False


@main.group(name="rollup")
def rollup_group() -> None:
    """The hourly and daily rollups the dashboard reads (the writer keeps them current)."""


@rollup_group.command(name="rebuild")
@database_url_option
@friendly_errors
def rollup_rebuild(database_url: str | None) -> None:
    """Recount the rollups from every stored call (after changing calls with your own SQL)."""
    store = Store(database_url)

    def progress(done: int) -> None:
        click.echo(f"\rcounted {done:,} calls...", nl=False, err=True)

    with store.engine.begin() as connection:
        calls = rollup.rebuild(connection, progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty() and calls:
        click.echo(err=True)
    click.echo(f"rebuilt the rollups from {calls:,} calls")


@main.group()
def spool() -> None:
    """Records the recorder could not write yet (database down, queue full, exit before catching up)."""


@spool.command(name="replay")
@database_url_option
@click.option("--spool-dir", type=click.Path(path_type=Path), default=None, help="Default: $OBS_SPOOL_DIR.")
@friendly_errors
def spool_replay(database_url: str | None, spool_dir: Path | None) -> None:
    """Write every spooled record to the store now (records already stored are skipped, never duplicated)."""
    recorder = Recorder(database_url, spool_dir=spool_dir)
    where = recorder.spool.directory
    records, files = recorder.replay_spool()
    click.echo(f"replayed {records:,} records from {files:,} spool files in {where} into "
               f"{db.display_url(config.normalize_database_url(recorder.database_url))}")  # fmt: skip
    rejected = where / "rejected"
    if rejected.is_dir() and any(rejected.iterdir()):
        click.echo(f"records the database refused are kept in {rejected}", err=True)


def _bytes(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:,.0f} {unit}" if unit == "B" else f"{amount:,.1f} {unit}"
        amount /= 1024
    return f"{amount:,.1f} TB"


main.add_command(replay)
main.add_command(collector)
main.add_command(proxy)
main.add_command(evals)
main.add_command(alerts)
main.add_command(retention_group)
main.add_command(privacy)
