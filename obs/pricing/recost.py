"""Recompute stored costs after a price change (new genai-prices release, or an edited override file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from obs.pricing.prices import Pricer, Usage
from obs.store import sql
from obs.store.schema import as_utc
from obs.store.store import Store

PAGE_ROWS = 5_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Costs closer than this are the same cost (SQLite keeps them as doubles).
TOLERANCE_USD = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class RecostResult:
    scanned: int  # calls repriced (those with token counts)
    changed: int
    unpriced: int


def recost(
    store: Store,
    pricer: Pricer,
    since: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecostResult:
    """Reprice every call since ``since`` (all calls when None) that has token counts; write the changes.

    ``unpriced`` counts the calls since ``since`` that are unpriced afterwards (sql/_unpriced.sql), as `obs stats`
    and the dashboard count them: a call with tokens whose model still has no price, and one that used the model
    without reporting its tokens. A call that failed before any usage is neither repriced nor unpriced.
    """
    repriced = changed = unpriced = 0
    after_ts: Any = since or EPOCH
    after_id = ""
    while True:
        with store.engine.connect() as connection:
            rows = (
                sql.execute(
                    connection,
                    "recost_calls",
                    since=since or EPOCH,
                    after_ts=after_ts,
                    after_id=after_id,
                    limit=PAGE_ROWS,
                )
                .mappings()
                .all()
            )
        if not rows:
            break
        updates: dict[str, Decimal | None] = {}
        for row in rows:
            if row["prompt_tokens"] is None or row["completion_tokens"] is None:
                unpriced += 1  # unpriced (sql/_unpriced.sql) and nothing to price it from
                continue
            repriced += 1
            cost = pricer.cost(
                row["model"],
                Usage(
                    prompt_tokens=row["prompt_tokens"],
                    completion_tokens=row["completion_tokens"],
                    cached_tokens=row["cached_tokens"] or 0,
                    reasoning_tokens=row["reasoning_tokens"] or 0,
                    cache_write_tokens=row["cache_write_tokens"] or 0,
                ),
                response_model=row["response_model"],
                provider=row["provider"],
                ts=as_utc(row["ts"]),
            )
            unpriced += cost is None
            if _differs(cost, row["cost_usd"]):
                updates[row["id"]] = cost
        store.set_costs(updates)
        changed += len(updates)
        if progress:
            progress(repriced)
        after_ts, after_id = rows[-1]["ts"], rows[-1]["id"]
    return RecostResult(scanned=repriced, changed=changed, unpriced=unpriced)


def _differs(new: Decimal | None, old: Any) -> bool:
    if new is None or old is None:
        return (new is None) != (old is None)
    return abs(new - Decimal(str(old))) > TOLERANCE_USD
