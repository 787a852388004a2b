"""Where a dashboard window is read from: whole days from the daily rollups, whole hours from the hourly ones,
the minutes at its edges from ``llm_calls`` itself (see ``rollup``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from obs.store.schema import to_utc

#: The rollups hold no tenant or user: a window filtered on one is read from llm_calls alone.
RAW_ONLY_FILTERS = ("tenant_id", "user_id")

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


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
