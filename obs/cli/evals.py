"""`obs evals ...`: sample interesting calls for triage, list the datasets, export one for an eval runner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from obs import config
from obs.cli.options import database_url_option, friendly_errors, when
from obs.evals import Evals, Settings
from obs.evals.export import FORMATS, render
from obs.evals.rules import RULES, parse_since
from obs.store.store import Store


@click.group()
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
            click.echo(f"{row.dataset:<24}{row.cases:>7,}{row.reviewers:>11,}  {when(row.last_ts)}")
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
