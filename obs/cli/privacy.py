"""`obs retention apply` and `obs privacy ...`: retention jobs, the policies in force, redaction of a text."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from obs import config
from obs.privacy import retention
from obs.privacy.policy import Policies, PolicyError, load
from obs.privacy.retention import RetentionPolicy
from obs.store.store import Store


def _options(func: click.decorators.FC) -> click.decorators.FC:
    from obs.cli.options import database_url_option, friendly_errors

    return database_url_option(friendly_errors(func))


@click.group(name="retention")
def retention_group() -> None:
    """Expire old content, delete old calls; calls with feedback or in an eval set are kept longer."""


@retention_group.command(name="apply")
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
@click.option("--content-days", type=click.IntRange(min=0), default=None,
              help=f"Content older than this expires (default ${config.ENV_RETENTION_CONTENT_DAYS} "
                   f"or {config.RETENTION_CONTENT_DAYS_DEFAULT}).")  # fmt: skip
@click.option("--delete-days", type=click.IntRange(min=0), default=None,
              help=f"Calls older than this are deleted (default ${config.ENV_RETENTION_DELETE_DAYS} "
                   f"or {config.RETENTION_DELETE_DAYS_DEFAULT}).")  # fmt: skip
@click.option("--keep-days", type=click.IntRange(min=0), default=None,
              help=f"Calls with feedback or in an eval set are kept this long "
                   f"(default ${config.ENV_RETENTION_KEEP_DAYS} or {config.RETENTION_KEEP_DAYS_DEFAULT}).")  # fmt: skip
@click.option("--batch", type=click.IntRange(min=1), default=config.RETENTION_BATCH, show_default=True,
              help="Rows per transaction.")  # fmt: skip
@_options
def apply_retention(
    database_url: str | None, dry_run: bool, content_days: int | None, delete_days: int | None,
    keep_days: int | None, batch: int,
) -> None:  # fmt: skip
    """Apply the retention periods to the store now (batched; progress on stderr)."""
    try:
        base = RetentionPolicy.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    policy = RetentionPolicy(
        base.content_days if content_days is None else content_days,
        base.delete_days if delete_days is None else delete_days,
        base.keep_days if keep_days is None else keep_days,
    )
    now = datetime.now(UTC)
    store = Store(database_url)
    click.echo(f"retention at {now:%Y-%m-%d %H:%M} UTC: content expires after {policy.content_days} days, calls "
               f"are deleted after {policy.delete_days} days, calls with feedback or in an eval set are kept "
               f"{policy.keep_days} days")  # fmt: skip

    def progress(what: str, done: int, planned: int) -> None:
        click.echo(f"  {what}: {done:,} / {planned:,}", err=True)

    report = (
        retention.plan(store, policy, now) if dry_run else retention.apply(store, policy, now, batch=batch,
                                                                            progress=progress)
    )  # fmt: skip
    verb = "would be" if dry_run else "were"
    click.echo(f"{report.deleted_calls:,} calls {verb} deleted, content of {report.expired_content:,} calls "
               f"{'would expire' if dry_run else 'expired'} (metadata kept), {report.deleted_spans:,} spans {verb} "
               f"deleted; {report.kept_calls:,} older calls kept for their feedback or eval set")  # fmt: skip
    if dry_run:
        click.echo("dry run: nothing changed")


@click.group()
def privacy() -> None:
    """Privacy policies: what is stored per feature (full, redact, metadata_only, sample)."""


@privacy.command(name="show")
def show() -> None:
    """The policies in force ($OBS_PRIVACY_FILE) and the analyzer's model."""
    from obs.privacy.analyzer import default_analyzer

    path = config.privacy_file()
    try:
        policies = load(path) if path.exists() else Policies()
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"policy file: {path}{'' if path.exists() else ' (not there: every call is stored in full)'}")
    click.echo(f"user ids: {'keyed hashes (HMAC-SHA256, $OBS_HASH_KEY)' if policies.hash_user_ids else 'as given'}")
    for name, policy in [("(default)", policies.default), *sorted(policies.features.items())]:
        extra = f", entities {', '.join(policy.entities)}, threshold {policy.threshold:g}, operator {policy.operator}"
        lists = (("never", policy.allow), ("always", policy.deny))
        extra += "".join(f", {word} {', '.join(terms)}" for word, terms in lists if terms)
        click.echo(f"  {name:<16} {policy.label}{extra if policy.redacts else ''}")
    click.echo(f"analyzer: {default_analyzer().info.note}")


@privacy.command(name="redact")
@click.argument("text")
@click.option("--feature", default=None, help="Use this feature's policy (default: the default policy).")
def redact_text(text: str, feature: str | None) -> None:
    """Show what the analyzer finds in TEXT and the text as it would be stored."""
    from obs.privacy.analyzer import default_analyzer
    from obs.privacy.redact import anonymize

    path = config.privacy_file()
    try:
        policy = (load(path) if path.exists() else Policies()).for_feature(feature)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    findings = default_analyzer().find([text], policy)[0]
    for f in sorted(findings, key=lambda f: f.start):
        click.echo(f"  {f.entity:<14} {f.score:.2f}  {text[f.start : f.end]!r}")
    click.echo(anonymize(text, findings, policy.operator, config.hash_key()))
