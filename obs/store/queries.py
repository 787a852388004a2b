"""The dashboard's and the jobs' questions as DataFrames: ``sql/name`` run on a store (``sql`` loads and binds it)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from obs.store import sql
from obs.store.store import Store, default_store

if TYPE_CHECKING:
    import pandas as pd

#: Result columns holding timestamps; they come back as UTC pandas timestamps on both dialects.
TIME_COLUMNS = frozenset({
    "ts", "day", "hour", "bucket", "start_ts", "end_ts", "first_ts", "last_ts", "opened_at", "last_seen_at",
    "resolved_at", "created_at", "finished_at", "last_fired",
})  # fmt: skip


def run(name: str, db: Store | None = None, **params: Any) -> pd.DataFrame:
    """Run ``sql/name`` against the store (the default one unless ``db`` is given) and return a DataFrame."""
    if db is None:
        db = default_store()
    import pandas as pd  # here, not at import: the SDK (and its writer process) never needs pandas

    with db.engine.connect() as connection:
        result = sql.execute(connection, name, **params)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return tidy(frame)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Same dtypes from both dialects: Decimal -> float, time columns -> UTC timestamps."""
    import pandas as pd

    for column in frame.columns:
        values = frame[column]
        if column in TIME_COLUMNS:
            frame[column] = pd.to_datetime(values, utc=True, format="mixed")
        elif values.dtype == object and _all_decimal(values.dropna()):
            frame[column] = values.astype("float64")
    return frame


def _all_decimal(values: Iterable[Any]) -> bool:
    seen = False
    for value in values:
        if not isinstance(value, Decimal):
            return False
        seen = True
    return seen
