"""Rollups: per-hour and per-day counts, sums and histograms the dashboard reads instead of every call.

The writer adds each batch of new calls to ``rollup_calls``, ``rollup_histograms`` and ``rollup_values`` in the
transaction that inserts them (``add``); whatever changes or deletes calls later (feedback, recost, retention)
takes them away first and adds them back after, so the rollups always equal the raw table. A dashboard query
reads whole days from the daily rows, the other whole hours from the hourly rows, and the minutes at the window's
edges from ``llm_calls`` itself (``spans`` picks the three parts), so every count and sum is exact for any window.

Percentiles come from the histograms (latency and time to first token in ms, cost in 1e-9 $): bucket ``b`` holds
values in ``[GAMMA**b, GAMMA**(b + 1))`` and stands for ``2 * GAMMA**(b + 1) / (GAMMA + 1)``, so each value read
from a bucket, and hence each interpolated percentile (a weighted mean of two such values), is within
``ERROR_BOUND`` (4.8%) of the exact PERCENTILE_CONT of the raw table. (A cost below $1e-9 reads as 0.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from obs import queries
from obs.schema import llm_calls, rollup_calls, rollup_histograms, rollup_values, to_utc

#: Ratio between the edges of a latency histogram bucket (the same 1.1 is in sql/_histogram_bucket.*.sql).
GAMMA = 1.1
#: Largest relative error of a percentile read from the histograms: (GAMMA - 1) / (GAMMA + 1) = 1/21.
ERROR_BOUND = (GAMMA - 1) / (GAMMA + 1)
#: The rollups hold no tenant or user: a window filtered on one is read from llm_calls alone.
RAW_ONLY_FILTERS = ("tenant_id", "user_id")
#: Calls added per statement when rebuilding.
REBUILD_CHUNK = 20_000

ADD_QUERIES = ("rollup_add_calls", "rollup_add_histograms", "rollup_add_values")
TABLES = (rollup_calls, rollup_histograms, rollup_values)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def add(connection: sa.Connection, ids: Sequence[str], sign: int = 1) -> None:
    """Add the stored calls ``ids`` to every rollup (``sign=-1`` takes them away)."""
    for start in range(0, len(ids), REBUILD_CHUNK):
        chunk = json.dumps(list(ids[start : start + REBUILD_CHUNK]))
        for name in ADD_QUERIES:
            queries.execute(connection, name, ids=chunk, sign=sign)


@contextmanager
def changing(connection: sa.Connection, ids: Sequence[str]) -> Iterator[None]:
    """Around an UPDATE of calls ``ids``: their old values leave the rollups, their new ones come in."""
    add(connection, ids, -1)
    yield
    add(connection, ids, 1)


def rebuild(connection: sa.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Empty the rollups and add every stored call again; returns how many calls were added."""
    for table in TABLES:
        connection.execute(table.delete())
    done, after = 0, ""
    while True:
        stmt = sa.select(llm_calls.c.id).where(llm_calls.c.id > after).order_by(llm_calls.c.id).limit(REBUILD_CHUNK)
        ids = list(connection.execute(stmt).scalars())
        if not ids:
            return done
        add(connection, ids)
        done, after = done + len(ids), ids[-1]
        if progress is not None:
            progress(done)


def spans(params: dict[str, Any]) -> dict[str, datetime]:
    """Where a window ``[start, end)`` is read from: whole days, whole hours, the raw edges (see the module doc).

    Hourly trends read no daily rows; a tenant or user filter reads everything raw.
    """
    start, end = to_utc(params["start"]), to_utc(params["end"])
    hour_start, hour_end = _ceil(start, HOUR), _floor(end, HOUR)
    if hour_start >= hour_end or any(params.get(name) is not None for name in RAW_ONLY_FILTERS):
        hour_start = hour_end = start
    day_start, day_end = _ceil(hour_start, DAY), _floor(hour_end, DAY)
    if day_start >= day_end or params.get("bucket") == "hour":
        day_start = day_end = hour_start
    return {
        "hour_start": hour_start, "hour_end": hour_end, "day_start": day_start, "day_end": day_end,
        # filter_values: the whole UTC days the window touches
        "values_start": _floor(start, DAY), "values_end": _ceil(end, DAY),
    }  # fmt: skip


def _floor(value: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (value - epoch) // step * step


def _ceil(value: datetime, step: timedelta) -> datetime:
    floor = _floor(value, step)
    return floor if floor == value else floor + step
