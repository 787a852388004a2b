"""The `obs` command: a thin layer over the library (parsing and printing only)."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from obs import config, db, queries
from obs.evals import EvalError, Evals, RuleError, Settings
from obs.evals.export import FORMATS, ExportFormatError, render
from obs.evals.rules import RULES, parse_since
from obs.pricing import PriceFileError, default_pricer
from obs.providers import ProviderError
from obs.recorder import Recorder
from obs.recost import recost
from obs.replay import ReplayError
from obs.schema import as_utc
from obs.store import Store

F = TypeVar("F", bound=Callable[..., Any])

database_url_option = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help=f"Store URL; defaults to ${config.ENV_DATABASE_URL}, else {config.DEFAULT_DATABASE_URL}.",
)


#: Errors a person can fix (a bad option, an unknown id, a missing key): one line, exit status 1.
USER_ERRORS = (db.StoreError, PriceFileError, EvalError, RuleError, ExportFormatError, ReplayError, ProviderError)


def friendly_errors(func: F) -> F:
    """Problems a person can fix are one line on stderr and exit status 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
        except sa.exc.SQLAlchemyError as exc:
            url = kwargs.get("database_url") or config.database_url()
            raise click.ClickException(db.describe_connection_error(exc, url)) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="obs")
def main() -> None:
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
        ("first call", _when(s.first_ts)),
        ("last call", _when(s.last_ts)),
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
    """Fill the store with realistic demo traffic through the real SDK (offline, no API key)."""
    from obs.demo.run import run_demo

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
        f"{s.errors:,} errors, from {_when(s.first_ts)} to {_when(s.last_ts)}."
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
    if not _is_loopback(host) and not os.environ.get(config.ENV_DASHBOARD_PASSWORD) and not _oidc_secrets():
        raise click.ClickException(
            f"refusing to serve full prompts on {host} without a login: set {config.ENV_DASHBOARD_PASSWORD}, "
            "or configure Streamlit's OIDC login ([auth] in .streamlit/secrets.toml), or use --host 127.0.0.1"
        )
    env = dict(os.environ)
    if database_url:
        env[config.ENV_DATABASE_URL] = database_url
    Store(database_url).close()  # a wrong URL fails here, with one line, not in the browser
    click.echo(f"Dashboard: http://{host}:{port}  (Ctrl+C stops it)")
    command = [
        sys.executable, "-m", "streamlit", "run", str(config.APP_PATH), "--server.address", host,
        "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    raise SystemExit(subprocess.call(command, env=env, cwd=config.APP_PATH.parent))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _oidc_secrets() -> bool:
    secrets = config.APP_PATH.parent / ".streamlit" / "secrets.toml"
    return secrets.is_file() and "[auth" in secrets.read_text(encoding="utf-8")


@main.command()
@click.argument("call_id", required=False)
@database_url_option
@click.option("--dataset", default=None, help="Replay every call of this eval dataset (a batch run).")
@click.option("--feature", "feature_filter", default=None, help="Batch: replay calls of this feature.")
@click.option("--of-model", "model_filter", default=None, help="Batch: replay calls made with this model.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Batch: only calls at or after this UTC date/time.",
)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="Batch: at most this many.")
@click.option("--name", default=None, help="Batch: name of the stored run (default: the dataset and the time).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, config.REPLAY_MAX_CONCURRENCY),
    default=config.REPLAY_CONCURRENCY,
    show_default=True,
    help="Batch: calls sent at once.",
)
@click.option("--model", default=None, help="Replay with this model.")
@click.option(
    "--system-prompt-file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Replay with the system prompt in this file ('-' reads stdin).",
)
@click.option(
    "--replace",
    "replacements",
    type=(str, str),
    multiple=True,
    metavar="OLD NEW",
    help="Replace text in the system prompt (keeps each call's context around it). Repeatable.",
)
@click.option("--temperature", type=float, default=None, help="Replay with this temperature.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a parameter (JSON value, e.g. max_tokens=200); KEY=null removes it. Repeatable.",
)
@click.option(
    "--provider",
    default=None,
    help=f"Provider from ${config.ENV_PROVIDERS_FILE} (built in: openai, demo); default: "
    f"${config.ENV_REPLAY_PROVIDER}, else demo for demo calls and openai otherwise.",
)
@click.option("--show-run", default=None, metavar="NAME", help="Print the summary of a stored run and exit.")
@friendly_errors
def replay(
    call_id: str | None, database_url: str | None, dataset: str | None, feature_filter: str | None,
    model_filter: str | None, since: datetime | None, limit: int, name: str | None, concurrency: int,
    model: str | None, system_prompt_file: Any, replacements: tuple[tuple[str, str], ...],
    temperature: float | None, params: tuple[str, ...],
    provider: str | None, show_run: str | None,
) -> None:  # fmt: skip
    """Replay a call (exactly, or with a new model, prompt or parameters) and print the diff; with --dataset
    (or --feature / --of-model), replay many calls as a named run and print its summary."""
    from obs import replay as replaying
    from obs import replay_runs
    from obs.replay_report import comparison_lines, summary_lines

    store = Store(database_url)
    if show_run:
        stored = replay_runs.open_run(store, show_run)
        click.echo(f'Run "{stored.name}" ({stored.created_at:%Y-%m-%d %H:%M} UTC, provider {stored.provider})')
        click.echo("\n".join(summary_lines(stored.summary)))
        return
    batch = dataset or feature_filter or model_filter
    if bool(call_id) == bool(batch):
        raise click.UsageError("give a CALL_ID, or --dataset NAME (or --feature / --of-model) for a batch")
    overrides = replaying.Overrides(
        model=model,
        system_prompt=system_prompt_file.read() if system_prompt_file else None,
        replace=tuple(replacements),
        temperature=temperature,
        params=_parse_params(params),
        provider=provider,
    )
    if call_id:
        result = replaying.replay_call(store, call_id, overrides)
        o, r = result.original, result.replay
        click.echo(f"Replayed call {o.id} ({o.feature or 'no feature'}, {o.model}) on {result.provider}: "
                   f"{overrides.describe()}")  # fmt: skip
        click.echo(f"replay {r.id} (source=replay, replay_of={o.id})\n")
        click.echo("\n".join(comparison_lines(result.comparison, click.style)))
        earlier = len(queries.run("replays_of_call", db=store, call_id=o.id))
        click.echo(f"\n{earlier:,} replay{'s' if earlier != 1 else ''} of this call so far; compare any of them on the "
                   f"dashboard: Replay page, ?call={o.id}")  # fmt: skip
        if result.error:
            raise click.ClickException(f"the provider failed: {result.error}")
        return
    selection = replay_runs.Selection(
        dataset=dataset, feature=feature_filter, model=model_filter,
        since=since.replace(tzinfo=UTC) if since else None, limit=limit,
    )  # fmt: skip
    click.echo(f"Replaying {selection.describe()} with {overrides.describe()}, {concurrency} at a time...")
    with click.progressbar(length=limit, label="calls", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        run = replay_runs.run_batch(store, selection, overrides, name=name, concurrency=concurrency, progress=progress)
    click.echo(f'Run "{run.name}" (id {run.id}) on {run.provider}:')
    click.echo("\n".join(summary_lines(run.summary)))
    for item in run.items:
        if item.error:
            click.echo(f"  error  {item.original.id}  {item.error}")
    click.echo(f'Open it again: obs replay --show-run "{run.name}", or on the dashboard\'s Replay page.')


def _parse_params(given: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--param")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


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


@main.group()
def evals() -> None:
    """Eval curation: sample interesting calls, see the datasets reviewers built, export one for an eval runner."""


@evals.command(name="sample")
@database_url_option
@click.option("--since", default=config.EVAL_SAMPLE_SINCE, show_default=True, help="Window: 24h, 7d, 2w or a date.")
@click.option("--per-rule", type=click.IntRange(1), default=config.EVAL_SAMPLE_PER_RULE, show_default=True)
@click.option("--rule", "rules_", multiple=True, type=click.Choice(RULES), help="Only these rules (repeatable).")
@click.option("--slow-ms", type=click.IntRange(0), default=config.EVAL_SLOW_MS, show_default=True)
@click.option("--no-feature-p95", is_flag=True, help="Slow means only above --slow-ms, not above the feature's p95.")
@click.option("--expensive-usd", type=click.FloatRange(0), default=config.EVAL_EXPENSIVE_USD, show_default=True)
@click.option("--feature", default=None, help="Only calls of this feature.")
@click.option("--model", default=None, help="Only calls to this model.")
@click.option("--prompt-version", default=None, help="Only calls with this prompt version.")
@click.option("--tenant", default=None, help="Only calls of this tenant.")
@click.option("--text", default=None, help="Only calls whose messages or answer contain this text.")
@click.option("--seed", type=int, default=None, help="Seed for a reproducible sample.")
@friendly_errors
def evals_sample(
    database_url: str | None, since: str, per_rule: int, rules_: tuple[str, ...], slow_ms: int,
    no_feature_p95: bool, expensive_usd: float, feature: str | None, model: str | None, prompt_version: str | None,
    tenant: str | None, text: str | None, seed: int | None,
) -> None:  # fmt: skip
    """Queue up to --per-rule random calls per rule for triage (never a call already reviewed or in a dataset)."""
    end = datetime.now(UTC)
    settings = Settings(
        start=parse_since(since, end), end=end, per_rule=per_rule, rules=rules_ or RULES, slow_ms=slow_ms,
        slow_above_feature_p95=not no_feature_p95, expensive_usd=expensive_usd, feature=feature, model=model,
        prompt_version=prompt_version, tenant_id=tenant, text=text, seed=seed,
    )  # fmt: skip
    store = Evals(Store(database_url))
    result = store.sample(settings)
    click.echo(
        f"sampled {len(result.picks):,} calls from {settings.start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
        f"({result.matching:,} calls match a rule and are not reviewed or in a dataset yet)"
    )
    click.echo(f"  {'rule':<12}{'matched':>9}{'taken':>7}")
    for rule in settings.rules:
        click.echo(f"  {rule:<12}{result.matched[rule]:>9,}{result.taken[rule]:>7,}")
    if result.feature_p95 and "slow" in settings.rules and settings.slow_above_feature_p95:
        p95 = ", ".join(f"{k or '(none)'} {v:,.0f} ms" for k, v in sorted(result.feature_p95.items(), key=str))
        click.echo(f"feature p95 (slow rule): {p95}")
    progress = store.progress()
    click.echo(f"{progress.waiting:,} candidates wait in the triage queue (dashboard: Triage page)")


@evals.command(name="list")
@database_url_option
@friendly_errors
def evals_list(database_url: str | None) -> None:
    """Datasets with their number of cases, and how many candidates wait in the triage queue."""
    store = Evals(Store(database_url))
    sets = store.datasets()
    if sets.empty:
        click.echo("no datasets yet: accept candidates on the Triage page")
    else:
        click.echo(f"{'dataset':<24}{'cases':>7}{'reviewers':>11}  last change")
        for row in sets.itertuples():
            click.echo(f"{row.dataset:<24}{row.cases:>7,}{row.reviewers:>11,}  {_when(row.last_ts)}")
    progress = store.progress()
    click.echo(f"triage queue: {progress.waiting:,} waiting, {progress.reviewed:,} of {progress.sampled:,} reviewed")


@evals.command(name="export")
@database_url_option
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: stdout.")
@friendly_errors
def evals_export(database_url: str | None, name: str, fmt: str, output: Path | None) -> None:
    """Write dataset NAME as JSONL (input messages, tools, ideal answer; OpenAI evals' input/ideal) or CSV."""
    cases = Evals(Store(database_url)).require_dataset(name)
    text = render(cases, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    if not output.parent.is_dir():
        raise click.ClickException(f"{output}: folder {output.parent} does not exist")
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(output)  # a failed export never leaves half a file where the old one was
    click.echo(f"wrote {len(cases):,} cases of dataset {name!r} to {output} ({fmt})")


def _when(value: Any) -> str:
    if value is None:
        return "-"
    return f"{as_utc(value):%Y-%m-%d %H:%M:%S} UTC"


def _bytes(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:,.0f} {unit}" if unit == "B" else f"{amount:,.1f} {unit}"
        amount /= 1024
    return f"{amount:,.1f} TB"


def _register() -> None:
    from obs.cli_alerts import alerts

    main.add_command(alerts)


_register()
