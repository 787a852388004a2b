"""Batch replay: an eval dataset (or a filtered set of calls) replayed with one set of overrides, stored as a
named run that can be opened later.

Calls are sent by a thread pool with a concurrency limit; a provider error on one call is that call's result and
never stops the run. The run and its items are written in one transaction at the end, after every replay is in
the store, so a run is either complete or absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from obs import clock, config
from obs.records import LLMCall, new_span_id
from obs.replay.call import Overrides, ReplayError, Session, build_request, load_original, resolve_provider
from obs.replay.compare import RunItem, RunSummary, summarize
from obs.replay.providers import Provider
from obs.store import queries, sql
from obs.store.schema import replay_run_items, replay_runs
from obs.store.store import Store

#: The earliest time a selection looks at when none is given.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which calls a batch replays: an eval dataset's cases, or a feature / model / time filter, newest first."""

    dataset: str | None = None
    feature: str | None = None
    model: str | None = None
    since: datetime | None = None
    limit: int = 100

    def as_dict(self) -> dict[str, Any]:
        out = {"dataset": self.dataset, "feature": self.feature, "model": self.model, "limit": self.limit,
               "since": self.since.isoformat() if self.since else None}  # fmt: skip
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> str:
        parts = [f"dataset {self.dataset}"] if self.dataset else []
        parts += [f"feature {self.feature}"] if self.feature else []
        parts += [f"model {self.model}"] if self.model else []
        parts += [f"since {self.since:%Y-%m-%d %H:%M} UTC"] if self.since else []
        return (", ".join(parts) or "all calls") + f" (at most {self.limit:,})"


@dataclass(frozen=True, slots=True)
class ReplayRun:
    """A finished run: its name, what it replayed with what, each call's result, and the summary."""

    id: str
    name: str
    created_at: datetime
    provider: str | None
    selection: Selection
    overrides: Overrides
    items: tuple[RunItem, ...]
    summary: RunSummary


def select_calls(store: Store, selection: Selection) -> list[str]:
    """The ids of the calls a selection picks (at most ``selection.limit``)."""
    params = {"dataset": selection.dataset, "feature": selection.feature, "model": selection.model,
              "start": selection.since or _EPOCH, "end": clock.now() + timedelta(days=1),
              "limit": selection.limit}  # fmt: skip
    with store.engine.connect() as connection:
        return [str(row[0]) for row in sql.execute(connection, "replay_selection", **params)]


def run_batch(
    store: Store,
    selection: Selection,
    overrides: Overrides | None = None,
    *,
    name: str | None = None,
    concurrency: int = config.REPLAY_CONCURRENCY,
    provider: Provider | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayRun:
    """Replay the selected calls with ``overrides`` and store the run; ``progress(done, total)`` after each call.

    Raises ReplayError / ProviderError before anything is sent when the selection is empty, the name is taken,
    or the provider is unknown, has no key or cannot be reached.
    """
    overrides = overrides or Overrides()
    if not 1 <= concurrency <= config.REPLAY_MAX_CONCURRENCY:
        raise ReplayError(f"concurrency must be between 1 and {config.REPLAY_MAX_CONCURRENCY}, not {concurrency}")
    ids = select_calls(store, selection)
    if not ids:
        raise ReplayError(f"nothing to replay: no calls match {selection.describe()}")
    started = clock.now()
    name = name or f"{selection.dataset or selection.feature or 'calls'} {started:%Y-%m-%d %H:%M:%S}"
    if run_id_by_name(store, name) is not None:
        raise ReplayError(f"a replay run named {name!r} exists already: choose another --name")
    pending = [_pending(store, call_id) for call_id in ids]
    first = next((p.original for p in pending if p.original is not None), None)
    chosen = provider or (resolve_provider(first, overrides.provider) if first else None)
    if chosen is None:
        raise ReplayError(f"nothing to replay: none of the {len(ids)} calls has stored content")
    chosen.check()
    run_id = new_span_id()
    results: dict[int, tuple[str | None, str | None]] = {}
    with ThreadPoolExecutor(concurrency) as pool, Session(store, chosen, run=name) as session:
        futures = {pool.submit(_one, session, p, overrides): i for i, p in enumerate(pending)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(ids))
    items = [_item(store, p, *results[i]) for i, p in enumerate(pending)]
    run = ReplayRun(run_id, name, started, chosen.name, selection, overrides, tuple(items), summarize(items))
    _save(store, run)
    return run


@dataclass(frozen=True, slots=True)
class _Pending:
    """A selected call before it is sent: its record, or why it cannot be replayed."""

    call_id: str
    original: LLMCall | None
    error: str | None = None


def _pending(store: Store, call_id: str) -> _Pending:
    try:
        return _Pending(call_id, load_original(store, call_id))
    except ReplayError as exc:
        return _Pending(call_id, None, str(exc))


def _one(session: Session, pending: _Pending, overrides: Overrides) -> tuple[str | None, str | None]:
    """(replay id, error) for one call; never raises, so one bad call cannot stop the run."""
    if pending.original is None:
        return None, pending.error
    try:
        kind, request = build_request(pending.original, overrides)
    except ReplayError as exc:
        return None, str(exc)
    return session.send(pending.original, kind, request)


def _item(store: Store, pending: _Pending, replay_id: str | None, error: str | None) -> RunItem:
    original = pending.original or store.get_call(pending.call_id)
    if original is None:  # deleted since it was selected
        original = LLMCall(id=pending.call_id, trace_id="", ts=_EPOCH, model="unknown")
    replay = store.get_call(replay_id) if replay_id else None
    if replay is None and error is None:
        error = "the replay is not in the store yet (spooled): run `obs spool replay`"
    return RunItem(original, replay, error)


def _save(store: Store, run: ReplayRun) -> None:
    finished = clock.now()
    with store.control.begin() as connection:
        connection.execute(
            replay_runs.insert().values(
                id=run.id, name=run.name, created_at=run.created_at, finished_at=finished, provider=run.provider,
                selection=run.selection.as_dict(), overrides=run.overrides.as_dict(), calls=len(run.items),
                summary=run.summary.as_dict(),
            )
        )  # fmt: skip
        rows = [
            {"run_id": run.id, "position": position, "call_id": item.original.id,
             "replay_id": item.replay.id if item.replay else None,
             "changed": _changed(item),
             "error": item.error}
            for position, item in enumerate(run.items)
        ]  # fmt: skip
        connection.execute(replay_run_items.insert(), rows)


def _changed(item: RunItem) -> bool | None:
    """Whether the answer changed, for pairs where both calls succeeded (as the summary counts them)."""
    comparison = item.comparison
    if item.failed or item.original.status != "ok" or comparison is None:
        return None
    return comparison.changed


# --- reading runs back -------------------------------------------------------------------------------------


def run_id_by_name(store: Store, name_or_id: str) -> str | None:
    """The id of the run with this name (or id), if any."""
    stmt = sa.select(replay_runs.c.id).where(sa.or_(replay_runs.c.name == name_or_id, replay_runs.c.id == name_or_id))
    with store.control.connect() as connection:
        found = connection.execute(stmt).scalar()
    return None if found is None else str(found)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as stored: its header and summary, and its calls side by side (one row each)."""

    id: str
    name: str
    created_at: datetime
    provider: str | None
    selection: dict[str, Any]
    overrides: dict[str, Any]
    summary: RunSummary
    items: pd.DataFrame


def open_run(store: Store, name_or_id: str) -> StoredRun:
    """A stored run by name or id; ReplayError when there is none."""
    run_id = run_id_by_name(store, name_or_id)
    if run_id is None:
        raise ReplayError(f"no replay run named {name_or_id!r}")
    with store.control.connect() as connection:
        row = connection.execute(sa.select(replay_runs).where(replay_runs.c.id == run_id)).mappings().one()
    return StoredRun(
        id=run_id,
        name=row["name"],
        created_at=row["created_at"],
        provider=row["provider"],
        selection=_json(row["selection"]),
        overrides=_json(row["overrides"]),
        summary=RunSummary.from_dict(_json(row["summary"])),
        items=queries.run("replay_run_items", db=store, run_id=run_id),
    )


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})
