"""`obs alerts ...`: check the rules (for cron or CI), list them, switch them on and off."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import click

from obs.alerts import engine, notify
from obs.alerts.rules import duration_text, factor_text, threshold_text
from obs.store.store import Store

#: Exit status of `obs alerts check --fail-on-firing` when an alert fires (1 stays "obs itself failed").
FIRING_EXIT_CODE = 2


def _options(func: click.decorators.FC) -> click.decorators.FC:
    from obs.cli.options import database_url_option, friendly_errors

    return database_url_option(friendly_errors(func))


@click.group()
def alerts() -> None:
    """Alert rules over the store: latency, refusals, errors, budgets, unhappy users, unpriced models."""


@alerts.command()
@click.option("--at", "at_text", metavar="TIME", default=None, help="Check as of this ISO time (UTC); default now.")
@click.option("--fail-on-firing", is_flag=True, help=f"Exit with status {FIRING_EXIT_CODE} if any alert fires.")
@click.option("--every", type=click.IntRange(10), default=None, metavar="SECONDS",
              help="Keep checking, every SECONDS (instead of cron); Ctrl+C stops.")  # fmt: skip
@_options
def check(database_url: str | None, at_text: str | None, fail_on_firing: bool, every: int | None) -> None:
    """Evaluate every enabled rule, record what opened or resolved, notify $OBS_ALERT_WEBHOOKS."""
    try:
        at = datetime.fromisoformat(at_text) if at_text else None
        hooks = notify.configured()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if at is not None and every:
        raise click.ClickException("--at and --every do not go together (a repeated check is always as of now)")
    store = Store(database_url)
    when = (at.replace(tzinfo=UTC) if at.tzinfo is None else at) if at else datetime.now(UTC)
    if not every:
        report = engine.check(store, when, hooks)
        _print(report, bool(hooks))
    try:
        while every:  # Ctrl+C ends the loop; a check it interrupts is rolled back, nothing half-written
            report = engine.check(store, datetime.now(UTC), hooks)
            _print(report, bool(hooks))
            time.sleep(every)
    except KeyboardInterrupt:
        return
    if fail_on_firing and report.firing:
        sys.exit(FIRING_EXIT_CODE)


def _print(report: engine.CheckReport, notifying: bool) -> None:
    click.echo(
        f"checked {report.rules} rules at {report.at:%Y-%m-%d %H:%M:%S} UTC: {len(report.opened)} opened, "
        f"{len(report.still_firing) + len(report.reopened)} still firing, {len(report.resolved)} resolved"
    )
    for label, messages in (("opened", report.opened), ("firing", report.still_firing + report.reopened),
                            ("resolved", report.resolved)):  # fmt: skip
        for message in messages:
            click.echo(f"  {label:<9}{message}")
    if notifying or report.undelivered:
        click.echo(f"notifications: {report.delivered} delivered, {len(report.undelivered)} waiting for a retry")
    for error in report.undelivered:
        click.echo(f"  not delivered (kept for the next check): {error}", err=True)


@alerts.command(name="rules")
@_options
def list_rules(database_url: str | None) -> None:
    """The alert rules, with their thresholds."""
    for rule in engine.load_rules(Store(database_url)):
        limits = f", threshold {threshold_text(rule.kind, rule.threshold)}" if rule.threshold is not None else ""
        limits += f", factor {factor_text(rule.factor)}" if rule.factor is not None else ""
        state = "on " if rule.enabled else "off"
        click.echo(f"{rule.id:>3} {state} {rule.name}  [{rule.kind} by {rule.scope}, window "
                   f"{duration_text(rule.window_minutes)}{limits}, min volume {rule.min_volume}, cooldown "
                   f"{duration_text(rule.cooldown_minutes)}]")  # fmt: skip


@alerts.command()
@click.argument("rule_id", type=int)
@_options
def enable(database_url: str | None, rule_id: int) -> None:
    """Switch a rule on."""
    _switch(database_url, rule_id, True)


@alerts.command()
@click.argument("rule_id", type=int)
@_options
def disable(database_url: str | None, rule_id: int) -> None:
    """Switch a rule off (its firing alerts resolve quietly at the next check)."""
    _switch(database_url, rule_id, False)


def _switch(database_url: str | None, rule_id: int, enabled: bool) -> None:
    try:
        engine.set_enabled(Store(database_url), rule_id, enabled)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rule {rule_id} {'enabled' if enabled else 'disabled'}")
