"""Altair charts of query results (pure: a DataFrame in, a chart out)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

#: Clicking a point or bar selects its time bucket and its series (the page then links to the calls behind it).
BUCKET_SELECTION = "bucket_pick"
#: What a chart shows for a missing feature or prompt version (no call filter matches it).
NONE = "(none)"


#: A rate is drawn only for buckets with at least this many calls (a handful of calls makes 0 % / 100 % spikes).
MIN_RATE_CALLS = 10
#: The refusal chart draws this many model x prompt-version series (the most called), the rest as one "other".
TOP_SERIES = 5
OTHER = "other"
#: How a bucket only partly inside the window is drawn (its sums are not comparable with the others').
PARTIAL_OPACITY = 0.35
#: Window = (start, end): what a chart marks partial buckets against.
Window = tuple[datetime, datetime] | None

#: Vega-Lite time units for the buckets the queries make.
UNITS = {"day": "utcyearmonthdate", "hour": "utcyearmonthdatehours"}
#: The field a selection names the clicked bucket by (Vega-Lite's name for the time unit of `bucket`), per bucket.
BUCKET_FIELDS = {f"{unit}_bucket": bucket for bucket, unit in UNITS.items()}


def _time_axis(bucket: str = "day") -> alt.X:
    # The bucket's UTC time unit: bars get the width of their day (or hour), easy to click.
    fmt = "%b %d %H:00" if bucket == "hour" else "%b %d"
    return alt.X(f"{UNITS[bucket]}(bucket):T", title=None, axis=alt.Axis(format=fmt, labelAngle=0))


def partial(frame: pd.DataFrame, window: Window, bucket: str = "day", column: str = "bucket") -> pd.Series:
    """Whether each row's bucket starts before or ends after the window (a partial first or last day or hour)."""
    if window is None or frame.empty:
        return pd.Series(False, index=frame.index)
    start, end = pd.to_datetime(list(window), utc=True)  # naive times are UTC, as the store keeps them
    begins = pd.to_datetime(frame[column], utc=True)
    size = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    return (begins < start) | (begins + size > end)


def _opacity() -> Any:
    return alt.condition("datum.partial", alt.value(PARTIAL_OPACITY), alt.value(1))


def _rate_axis(column: str, title: str, frame: pd.DataFrame) -> alt.Y:
    # At least 0..5 %: an all-zero series reads 0 %, 1 %, ..., not 0.000000 %.
    top = max(0.05, float(frame[column].max()) if not frame.empty else 0.0)
    return alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, min(top, 1)]))


def _selectable(chart: alt.Chart, series: list[str], *, nearest: bool) -> alt.Chart:
    # The bucket by its x channel (the time-unit field), the series by field: a click carries both.
    pick = alt.selection_point(
        name=BUCKET_SELECTION, encodings=["x"], fields=series or alt.Undefined, on="click", nearest=nearest
    )
    return chart.add_params(pick)


def _line_with_points(base: alt.Chart, tooltip: list[Any], series: list[str]) -> alt.LayerChart:
    # A line takes clicks on its thin stroke only, and `mark_line(point=True)` leaves its points out of the
    # line's selection: the points are a layer of their own that holds the selection, the nearest one to a click.
    # With a series, a click must hit its point: Vega-Lite finds the "nearest" point along the x encoding only,
    # which picks any series of the clicked bucket. Without one (a percentile, the error rate) nearest is right.
    # A partial bucket's point is faded (its tooltip says so).
    points = base.mark_point(filled=True, size=60 if series else 45).encode(
        tooltip=[*tooltip, alt.Tooltip("partial:N", title="partial bucket")], opacity=_opacity()
    )
    line = base.mark_line().encode(detail="segment:N") if "segment" in base.data.columns else base.mark_line()
    return alt.LayerChart(layer=[line, _selectable(points, series, nearest=not series)])


def enough_calls(frame: pd.DataFrame, series: list[str], bucket: str = "day") -> pd.DataFrame:
    """The rows of buckets with at least MIN_RATE_CALLS calls, each with the ``segment`` of its line: a line
    breaks where a bucket was left out (too few calls, or none), it does not bridge the gap."""
    if frame.empty:
        return frame.assign(segment=pd.Series(dtype=str))
    step = pd.Timedelta(hours=1) if bucket == "hour" else pd.Timedelta(days=1)
    parts = []
    for key, rows in frame.sort_values("bucket").groupby(series or (lambda _: 0), sort=False, dropna=False):
        rows = rows[rows["calls"] >= MIN_RATE_CALLS]
        gap = pd.to_datetime(rows["bucket"], utc=True).diff().fillna(step) > step
        parts.append(rows.assign(segment=[f"{key}/{n}" for n in gap.cumsum()]))
    return pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0].assign(segment=[])


def cost_by_feature(frame: pd.DataFrame, window: Window = None) -> alt.Chart:
    """Stacked daily cost per feature; a day only partly in the window is faded."""
    data = frame.rename(columns={"day": "bucket"}).fillna({"feature": NONE})
    data = data.assign(partial=partial(data, window))
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_time_axis(),
            y=alt.Y("cost:Q", title="Cost ($)", stack=True),
            color=alt.Color("feature:N", title="Feature"),
            opacity=_opacity(),
            tooltip=["bucket:T", "feature:N", alt.Tooltip("cost:Q", format="$.4f"), "calls:Q", "unpriced_calls:Q",
                     alt.Tooltip("partial:N", title="partial day")],
        )
    )  # fmt: skip
    # No `nearest`: a stacked segment's nearest point can be its neighbour's; a bar is wide enough to click.
    return _selectable(chart, ["feature"], nearest=False).properties(height=260)


def cost_by_hour(trends: pd.DataFrame, window: Window = None) -> alt.Chart:
    """Cost per hour (the 24-hour view); an hour only partly in the window is faded."""
    data = trends.assign(partial=partial(trends, window, "hour"))
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_time_axis("hour"),
            y=alt.Y("cost:Q", title="Cost ($)"),
            opacity=_opacity(),
            tooltip=["bucket:T", alt.Tooltip("cost:Q", format="$.4f"), "calls:Q",
                     alt.Tooltip("partial:N", title="partial hour")],
        )
    )  # fmt: skip
    return _selectable(chart, [], nearest=False).properties(height=260)


def latency_percentiles(frame: pd.DataFrame, bucket: str = "day", window: Window = None) -> alt.LayerChart:
    """p50 / p95 / p99 latency per bucket."""
    data = frame.melt(id_vars=["bucket"], value_vars=["p50", "p95", "p99"], var_name="percentile", value_name="ms")
    data = data.assign(partial=partial(data, window, bucket))
    base = alt.Chart(data).encode(
        x=_time_axis(bucket),
        y=alt.Y("ms:Q", title="Latency (ms)"),
        color=alt.Color("percentile:N", title=None, sort=["p50", "p95", "p99"]),
    )
    tooltip = ["bucket:T", "percentile:N", alt.Tooltip("ms:Q", format=",.0f")]
    return _line_with_points(base, tooltip, []).properties(height=260)  # a percentile is no call filter


def rate_by_bucket(
    frame: pd.DataFrame, column: str, title: str, bucket: str = "day", window: Window = None
) -> alt.LayerChart:
    """One rate (0..1) per bucket, as a line; buckets with fewer than MIN_RATE_CALLS calls are left out."""
    data = enough_calls(frame, [], bucket)
    data = data.assign(partial=partial(data, window, bucket))
    base = alt.Chart(data).encode(x=_time_axis(bucket), y=_rate_axis(column, title, data))
    tooltip = ["bucket:T", alt.Tooltip(f"{column}:Q", format=".1%"), "calls:Q"]
    return _line_with_points(base, tooltip, []).properties(height=220)


def top_series(frame: pd.DataFrame, n: int = TOP_SERIES) -> pd.DataFrame:
    """Refusal rows with the ``n`` most called model x prompt-version series kept and the rest summed into one
    "other" series per bucket (its model and prompt version are NONE: a click on it filters by its bucket only)."""
    data = frame.fillna({"prompt_version": NONE}).assign(series=lambda f: f["model"] + " · " + f["prompt_version"])
    ranked = data.groupby("series")["calls"].sum().sort_values(ascending=False, kind="stable")
    keep = set(ranked.index[:n]) if len(ranked) > n + 1 else set(ranked.index)
    top = data[data["series"].isin(keep)]
    rest = data[~data["series"].isin(keep)]
    if rest.empty:
        return top
    other = rest.groupby("bucket", as_index=False)[["calls", "refusals"]].sum()
    other = other.assign(model=NONE, prompt_version=NONE, series=f"{OTHER} ({len(ranked) - len(keep)} series)",
                         refusal_rate=other["refusals"] / other["calls"])  # fmt: skip
    return pd.concat([top, other], ignore_index=True)


def refusal_by_model_and_prompt(frame: pd.DataFrame, bucket: str = "day", window: Window = None) -> alt.LayerChart:
    """Refusal rate per bucket of the most called model x prompt-version series (the rest as "other"); buckets
    of a series with fewer than MIN_RATE_CALLS calls are left out."""
    data = enough_calls(top_series(frame), ["series"], bucket)
    data = data.assign(partial=partial(data, window, bucket))
    order = list(dict.fromkeys(data.sort_values("series", key=lambda s: s.str.startswith(OTHER))["series"]))
    base = alt.Chart(data).encode(
        x=_time_axis(bucket),
        y=_rate_axis("refusal_rate", "Refusal rate", data),
        color=alt.Color("series:N", title="Model · prompt version", sort=order, legend=alt.Legend(labelLimit=260)),
    )
    tooltip = ["bucket:T", "model:N", "prompt_version:N", alt.Tooltip("refusal_rate:Q", format=".1%"), "calls:Q"]
    return _line_with_points(base, tooltip, ["model", "prompt_version"]).properties(height=260)


def bars(frame: pd.DataFrame, category: str, value: str, title: str, fmt: str = ",.2f") -> alt.Chart:
    """Horizontal bars, largest first."""
    chart: alt.Chart = (
        alt.Chart(frame.fillna({category: "(none)"}))
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
            x=alt.X(f"{value}:Q", title=title),
            tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=fmt)],
        )
        .properties(height=max(120, 32 * len(frame)))
    )
    return chart


def waterfall(steps: pd.DataFrame) -> alt.Chart:
    """A trace's steps on a time axis: one bar per call or span, from its start to its end (ms from the start)."""
    chart: alt.Chart = (
        alt.Chart(steps)
        .mark_bar(cornerRadius=2)
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=360, labelOverlap=False)),
            x=alt.X("start_ms:Q", title="ms since the trace started"),
            x2="end_ms:Q",
            color=alt.Color("kind:N", title="Kind"),
            tooltip=["label:N", "kind:N", alt.Tooltip("duration_ms:Q", format=",.0f"), "cost_usd:Q", "status:N"],
        )
        .properties(height=max(160, 44 * len(steps)))
    )
    return chart
