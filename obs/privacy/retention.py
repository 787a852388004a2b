"""Retention: content older than N days expires (metadata stays, content_state becomes ``expired``), calls older
than M days are deleted, calls with feedback or in an eval dataset are kept (with content) longer.

Work happens in batches of RETENTION_BATCH rows, each its own short transaction, so writers are never locked out
for long. The dry run counts with the same conditions the batches select with, so it reports what apply changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from obs import config
from obs.store import rollup, sql
from obs.store.schema import feedback, llm_call_content, llm_calls, llm_texts, spans
from obs.store.store import Store


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Periods in days: content expires after ``content_days``, calls go after ``delete_days``, calls with
    feedback or in an eval dataset stay (content included) for ``keep_days``."""

    content_days: int = config.RETENTION_CONTENT_DAYS_DEFAULT
    delete_days: int = config.RETENTION_DELETE_DAYS_DEFAULT
    keep_days: int = config.RETENTION_KEEP_DAYS_DEFAULT

    @classmethod
    def from_env(cls) -> RetentionPolicy:
        """From OBS_RETENTION_CONTENT_DAYS / _DELETE_DAYS / _KEEP_DAYS (the defaults where unset)."""
        return cls(
            config.retention_days(config.ENV_RETENTION_CONTENT_DAYS, config.RETENTION_CONTENT_DAYS_DEFAULT),
            config.retention_days(config.ENV_RETENTION_DELETE_DAYS, config.RETENTION_DELETE_DAYS_DEFAULT),
            config.retention_days(config.ENV_RETENTION_KEEP_DAYS, config.RETENTION_KEEP_DAYS_DEFAULT),
        )

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        return {
            "content_before": now - timedelta(days=self.content_days),
            "delete_before": now - timedelta(days=self.delete_days),
            "keep_before": now - timedelta(days=self.keep_days),
        }


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What retention changed (or, in a dry run, would change)."""

    deleted_calls: int
    expired_content: int
    deleted_spans: int
    kept_calls: int
    dry_run: bool


#: Called after each batch with (what, rows done so far, rows planned).
Progress = Callable[[str, int, int], None]


def plan(store: Store, policy: RetentionPolicy, now: datetime) -> RetentionReport:
    """What `apply` would change at ``now``, changing nothing."""
    with store.engine.connect() as connection:
        row = sql.execute(connection, "retention_plan", **policy.cutoffs(now)).mappings().one()
    return RetentionReport(int(row["delete_calls"]), int(row["expire_content"]), int(row["delete_spans"]),
                           int(row["kept_calls"]), dry_run=True)  # fmt: skip


def apply(
    store: Store, policy: RetentionPolicy, now: datetime, *, batch: int = config.RETENTION_BATCH,
    progress: Progress | None = None,
) -> RetentionReport:  # fmt: skip
    """Delete old calls and spans, expire old content, in short batches; returns what changed."""
    planned = plan(store, policy, now)
    cutoffs = policy.cutoffs(now)
    deleted = _batches(store, "retention_delete_batch", cutoffs, batch, _delete_calls,
                       "calls deleted", planned.deleted_calls, progress)  # fmt: skip
    expired = _batches(store, "retention_expire_batch", cutoffs, batch, _expire_content,
                       "contents expired", planned.expired_content, progress)  # fmt: skip
    spans_deleted = _batches(store, "retention_spans_batch", cutoffs, batch, _delete_spans,
                             "spans deleted", planned.deleted_spans, progress)  # fmt: skip
    if deleted or expired:
        with store.engine.begin() as connection:  # shared system prompts no stored content refers to any more
            in_use = sa.select(llm_call_content.c.system_prompt_hash).where(
                llm_call_content.c.system_prompt_hash.is_not(None)
            )
            connection.execute(llm_texts.delete().where(llm_texts.c.hash.not_in(in_use)))
    return RetentionReport(deleted, expired, spans_deleted, planned.kept_calls, dry_run=False)


def _batches(
    store: Store, query: str, cutoffs: dict[str, datetime], size: int,
    change: Callable[[sa.Connection, list[str]], None], label: str, planned: int, progress: Progress | None,
) -> int:  # fmt: skip
    done = 0
    while True:
        with store.engine.begin() as connection:  # one short transaction per batch
            ids = [row[0] for row in sql.execute(connection, query, limit=size, **cutoffs)]
            if ids:
                change(connection, ids)
        done += len(ids)
        if progress is not None and ids:
            progress(label, done, max(planned, done))
        if len(ids) < size:
            return done


def _delete_calls(connection: sa.Connection, ids: list[str]) -> None:
    rollup.add(connection, ids, -1)  # the rollups keep counting exactly the calls stored
    connection.execute(feedback.delete().where(feedback.c.call_id.in_(ids)))
    connection.execute(llm_call_content.delete().where(llm_call_content.c.call_id.in_(ids)))
    connection.execute(llm_calls.delete().where(llm_calls.c.id.in_(ids)))  # eval cases go with it (cascade)


def _expire_content(connection: sa.Connection, ids: list[str]) -> None:
    connection.execute(llm_call_content.delete().where(llm_call_content.c.call_id.in_(ids)))
    connection.execute(llm_calls.update().where(llm_calls.c.id.in_(ids)).values(content_state="expired"))


def _delete_spans(connection: sa.Connection, ids: list[str]) -> None:
    connection.execute(spans.delete().where(spans.c.id.in_(ids)))
