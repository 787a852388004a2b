"""`obs replay`: re-run a logged call as it was or with overrides and print the diff; or a batch over a dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from obs import config
from obs.cli.options import database_url_option, friendly_errors
from obs.store import queries
from obs.store.store import Store


@click.command()
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
    from obs.replay import call as replaying
    from obs.replay import runs as replay_runs
    from obs.replay.report import comparison_lines, summary_lines

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
