"""Rollups: per-hour and per-day counts, sums and histograms the dashboard reads instead of every call.

The writer adds each batch of new calls to ``rollup_calls``, ``rollup_histograms`` and ``rollup_values`` in the
transaction that inserts them (``add``); whatever changes or deletes calls later (feedback, recost, retention)
takes them away first and adds them back after, so the rollups always equal the raw table. A dashboard query
reads whole days from the daily rows, the other whole hours from the hourly rows, and the minutes at the window's
edges from ``llm_calls`` itself (``windows.spans`` picks the three parts), so every count and sum is exact for
any window.

Percentiles come from the histograms (latency and time to first token in ms, cost in 1e-9 $): bucket ``b`` holds
values in ``[GAMMA**b, GAMMA**(b + 1))`` and stands for ``2 * GAMMA**(b + 1) / (GAMMA + 1)``, so each value read
from a bucket, and hence each interpolated percentile (a weighted mean of two such values), is within
``ERROR_BOUND`` (4.8%) of the exact PERCENTILE_CONT of the raw table. (A cost below $1e-9 reads as 0.)
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from obs.records import LLMCall, cost_state
from obs.store import sql
from obs.store.schema import llm_calls, rollup_calls, rollup_histograms, rollup_values, to_utc

#: Ratio between the edges of a latency histogram bucket (the same 1.1 is in sql/_histogram_bucket.*.sql).
GAMMA = 1.1
#: Largest relative error of a percentile read from the histograms: (GAMMA - 1) / (GAMMA + 1) = 1/21.
ERROR_BOUND = (GAMMA - 1) / (GAMMA + 1)
#: Calls added per statement when rebuilding.
REBUILD_CHUNK = 20_000

ADD_QUERIES = ("rollup_add_calls", "rollup_add_histograms", "rollup_add_values")
#: The same additions from counts the writer made (``merge``), one row per statement.
MERGE_QUERIES = ("rollup_merge_calls", "rollup_merge_histograms", "rollup_merge_values")
TABLES = (rollup_calls, rollup_histograms, rollup_values)


def add(connection: sa.Connection, ids: Sequence[str], sign: int = 1) -> None:
    """Add the stored calls ``ids`` to every rollup (``sign=-1`` takes them away)."""
    for start in range(0, len(ids), REBUILD_CHUNK):
        chunk = json.dumps(list(ids[start : start + REBUILD_CHUNK]))
        for name in ADD_QUERIES:
            sql.execute(connection, name, ids=chunk, sign=sign)


@contextmanager
def changing(connection: sa.Connection, ids: Sequence[str]) -> Iterator[None]:
    """Around an UPDATE of calls ``ids``: their old values leave the rollups, their new ones come in."""
    add(connection, ids, -1)
    yield
    add(connection, ids, 1)


def rebuild(connection: sa.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Empty the rollups and add every stored call again; returns how many calls were added."""
    for table in TABLES:
        if connection.dialect.name == "clickhouse":  # no DELETE of every row (a mutation) there
            connection.exec_driver_sql(f"TRUNCATE TABLE {table.name}")
        else:
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


# --- counted by the writer --------------------------------------------------------------------------------

#: 1e-10 $: the scale of the cost column (schema.Money); PostgreSQL rounds each cost to it as it stores it.
_COST_SCALE = Decimal("1e-10")
_LN_GAMMA = math.log(GAMMA)
#: The counters of a rollup_calls row, in the order of sql/_rollup_calls_insert.sql.
CALL_COUNTERS = (
    "calls", "errors", "refusals", "thumbs_down", "unpriced", "priced_calls", "cost_usd", "prompt_tokens",
    "completion_tokens", "ttft_calls", "ttft_latency_calls", "ttft_latency_ms",
)  # fmt: skip
VALUE_KINDS = ("feature", "model", "tenant_id", "user_id")


@dataclass(slots=True)
class Deltas:
    """What a batch of new calls adds to the rollups, counted by the writer as it encodes them.

    The same sums as the ``rollup_add_*`` queries on PostgreSQL (``test_rollup`` checks the two agree), made
    before the transaction so that the database merges a few rows instead of reading the batch back and
    aggregating it: the server's time bounds ingest there, and this is ~15 us a call less of it. Costs are
    counted as PostgreSQL stores them (rounded to the column's scale); SQLite, which keeps the float and whose
    writer is bound by the GIL instead, runs the queries. Counted per hour; the daily rows sum the hourly ones.
    """

    calls: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    histograms: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    values: Counter[tuple[Any, ...]] = field(default_factory=Counter)

    def add(self, call: LLMCall) -> None:
        hour = to_utc(call.ts).replace(minute=0, second=0, microsecond=0)
        feature, model, source = call.feature or "", call.model, call.source
        key = (hour, feature, model, call.prompt_version or "", source)
        row = self.calls.get(key)
        if row is None:
            row = self.calls[key] = [0] * len(CALL_COUNTERS)
        cost = None if call.cost_usd is None else Decimal(call.cost_usd).quantize(_COST_SCALE, ROUND_HALF_UP)
        latency, first_token = call.latency_ms, call.latency_ms_first_token
        ttft = bool(call.stream) and first_token is not None
        row[0] += 1
        row[1] += call.status == "error"
        row[2] += bool(call.is_refusal)
        row[3] += call.user_feedback == "thumbs_down"
        row[4] += cost_state(call) == "unpriced"
        row[5] += cost is not None
        row[6] += cost or 0
        row[7] += call.prompt_tokens or 0
        row[8] += call.completion_tokens or 0
        row[9] += ttft
        row[10] += ttft and latency is not None
        row[11] += (latency or 0) if ttft else 0
        group = (hour, feature, model, source)
        histograms = self.histograms
        if latency is not None:
            histograms[(*group, "latency", bucket_of(latency))] += 1
        if call.stream and first_token is not None:
            histograms[(*group, "ttft", bucket_of(first_token))] += 1
        if cost is not None:
            histograms[(*group, "cost", bucket_of(float(cost) * 1_000_000_000))] += 1
        day = hour.replace(hour=0)
        for kind, value in zip(VALUE_KINDS, (call.feature, model, call.tenant_id, call.user_id), strict=True):
            if value is not None:
                self.values[(day, kind, value)] += 1


def bucket_of(value: float) -> int:
    """The histogram bucket of a value, as sql/_histogram_bucket.*.sql computes it."""
    return int(math.log(value) / _LN_GAMMA) if value >= 1 else -1000


def merge(connection: sa.Connection, deltas: Deltas) -> None:
    """Add counts made by the writer (``Deltas``) to the rollups: a few upserted rows per batch."""
    dialect = connection.dialect.name
    calls: dict[tuple[Any, ...], list[Any]] = {}
    for (hour, *dims), counters in deltas.calls.items():
        calls[("hour", hour, *dims)] = counters
        day = calls.setdefault(("day", hour.replace(hour=0), *dims), [0] * len(CALL_COUNTERS))
        day[:] = [a + b for a, b in zip(day, counters, strict=True)]
    histograms: Counter[tuple[Any, ...]] = Counter()
    for (hour, *rest), n in deltas.histograms.items():
        histograms[("hour", hour, *rest)] += n
        histograms[("day", hour.replace(hour=0), *rest)] += n
    call_rows = [
        {"grain": k[0], "ts": k[1], "feature": k[2], "model": k[3], "prompt_version": k[4], "source": k[5],
         **dict(zip(CALL_COUNTERS, v, strict=True))}
        for k, v in calls.items()
    ]  # fmt: skip
    histogram_rows = [
        {"grain": k[0], "ts": k[1], "feature": k[2], "model": k[3], "source": k[4], "metric": k[5], "bucket": k[6],
         "calls": n}
        for k, n in histograms.items()
    ]  # fmt: skip
    value_rows = [{"ts": k[0], "kind": k[1], "value": k[2], "calls": n} for k, n in deltas.values.items()]
    for name, params in zip(MERGE_QUERIES, (call_rows, histogram_rows, value_rows), strict=True):
        if params:
            bound = [{key: sql.bind_value(value, dialect) for key, value in row.items()} for row in params]
            connection.execute(sa.text(sql.load(name, dialect)), bound)
