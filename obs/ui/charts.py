"""Altair charts of query results (pure: a DataFrame in, a chart out)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

#: Clicking a point or bar selects its time bucket and its series (the page then links to the calls behind it).
BUCKET_SELECTION = "bucket_pick"
#: What a chart shows for a missing feature or prompt version (no call filter matches it).
NONE = "(none)"


#: Vega-Lite time units for the buckets the queries make.
UNITS = {"day": "utcyearmonthdate", "hour": "utcyearmonthdatehours"}
#: The field a selection names the clicked bucket by (Vega-Lite's name for the time unit of `bucket`), per bucket.
BUCKET_FIELDS = {f"{unit}_bucket": bucket for bucket, unit in UNITS.items()}


def _time_axis(bucket: str = "day") -> alt.X:
    # The bucket's UTC time unit: bars get the width of their day (or hour), easy to click.
    fmt = "%b %d %H:00" if bucket == "hour" else "%b %d"
    return alt.X(f"{UNITS[bucket]}(bucket):T", title=None, axis=alt.Axis(format=fmt, labelAngle=0))


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
    points = base.mark_point(filled=True, size=60 if series else 45, opacity=1).encode(tooltip=tooltip)
    return alt.LayerChart(layer=[base.mark_line(), _selectable(points, series, nearest=not series)])


def cost_by_feature(frame: pd.DataFrame) -> alt.Chart:
    """Stacked daily cost per feature."""
    data = frame.rename(columns={"day": "bucket"}).fillna({"feature": NONE})
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_time_axis(),
            y=alt.Y("cost:Q", title="Cost ($)", stack=True),
            color=alt.Color("feature:N", title="Feature"),
            tooltip=["bucket:T", "feature:N", alt.Tooltip("cost:Q", format="$.4f"), "calls:Q", "unpriced_calls:Q"],
        )
    )
    # No `nearest`: a stacked segment's nearest point can be its neighbour's; a bar is wide enough to click.
    return _selectable(chart, ["feature"], nearest=False).properties(height=260)


def latency_percentiles(frame: pd.DataFrame, bucket: str = "day") -> alt.LayerChart:
    """p50 / p95 / p99 latency per bucket."""
    data = frame.melt(id_vars=["bucket"], value_vars=["p50", "p95", "p99"], var_name="percentile", value_name="ms")
    base = alt.Chart(data).encode(
        x=_time_axis(bucket),
        y=alt.Y("ms:Q", title="Latency (ms)"),
        color=alt.Color("percentile:N", title=None, sort=["p50", "p95", "p99"]),
    )
    tooltip = ["bucket:T", "percentile:N", alt.Tooltip("ms:Q", format=",.0f")]
    return _line_with_points(base, tooltip, []).properties(height=260)  # a percentile is no call filter


def rate_by_bucket(frame: pd.DataFrame, column: str, title: str, bucket: str = "day") -> alt.LayerChart:
    """One rate (0..1) per bucket, as a line."""
    base = alt.Chart(frame).encode(x=_time_axis(bucket), y=alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format="%")))
    tooltip = ["bucket:T", alt.Tooltip(f"{column}:Q", format=".1%"), "calls:Q"]
    return _line_with_points(base, tooltip, []).properties(height=220)


def refusal_by_model_and_prompt(frame: pd.DataFrame, bucket: str = "day") -> alt.LayerChart:
    """Refusal rate per bucket, one line per model and prompt version."""
    data = frame.fillna({"prompt_version": NONE}).assign(series=lambda f: f["model"] + " · " + f["prompt_version"])
    base = alt.Chart(data).encode(
        x=_time_axis(bucket),
        y=alt.Y("refusal_rate:Q", title="Refusal rate", axis=alt.Axis(format="%")),
        color=alt.Color("series:N", title="Model · prompt version"),
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
