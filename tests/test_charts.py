"""The overview's charts as data: partial buckets, the minimum volume of a rate, top-N refusal series, the axes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd

from obs.ui import charts

START = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def days(n: int, **columns: list[object]) -> pd.DataFrame:
    buckets = pd.date_range("2026-11-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"bucket": buckets, **columns})


def test_the_first_and_last_buckets_that_stick_out_of_the_window_are_partial() -> None:
    frame = days(4)
    window = (START, START + timedelta(days=3))  # Nov 1 09:30 .. Nov 4 09:30
    assert charts.partial(frame, window).tolist() == [True, False, False, True]
    exact = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    assert not charts.partial(frame, exact).any()
    hours = pd.DataFrame({"bucket": pd.date_range("2026-11-01 09:00", periods=3, freq="h", tz="UTC")})
    assert charts.partial(hours, (START, START + timedelta(hours=2)), "hour").tolist() == [True, False, True]


def test_a_rate_leaves_out_buckets_of_a_handful_of_calls_and_its_line_breaks_there() -> None:
    frame = days(6, calls=[50, 3, 40, 40, 0, 30], error_rate=[0.02, 1.0, 0.01, 0.0, 0.0, 0.05])
    kept = charts.enough_calls(frame, [])
    assert kept["calls"].tolist() == [50, 40, 40, 30]  # no 100 % spike from 3 calls
    assert kept["segment"].nunique() == 3  # Nov 1 | Nov 3-4 | Nov 6: no line across a left-out day
    spec = charts.rate_by_bucket(frame, "error_rate", "Error rate").to_dict()
    assert spec["layer"][0]["encoding"]["detail"]["field"] == "segment"


def test_an_all_zero_rate_reads_in_whole_percent() -> None:
    frame = days(3, calls=[20, 20, 20], error_rate=[0.0, 0.0, 0.0])
    y = charts.rate_by_bucket(frame, "error_rate", "Error rate").to_dict()["layer"][0]["encoding"]["y"]
    assert y["axis"]["format"] == ".0%" and y["scale"]["domain"] == [0, 0.05]


def test_the_refusal_chart_keeps_the_most_called_series_and_sums_the_rest_as_other() -> None:
    rows = []
    for i in range(9):  # 9 model x prompt series, series i with 100 - 10 i calls a day
        for day in pd.date_range("2026-11-01", periods=2, freq="D", tz="UTC"):
            calls = 100 - 10 * i
            rows.append({"bucket": day, "model": f"m{i}", "prompt_version": None if i == 8 else "v1", "calls": calls,
                         "refusals": i, "refusal_rate": i / calls})  # fmt: skip
    data = charts.top_series(pd.DataFrame(rows))
    named = sorted(set(data["series"]))
    assert len(named) == charts.TOP_SERIES + 1 and "other (4 series)" in named
    other = data[data["series"] == "other (4 series)"]
    assert other["calls"].tolist() == [50 + 40 + 30 + 20] * 2 and other["refusals"].tolist() == [5 + 6 + 7 + 8] * 2
    assert (other["refusal_rate"] == 26 / 140).all() and set(other["model"]) == {charts.NONE}  # a click: bucket only
    spec = charts.refusal_by_model_and_prompt(pd.DataFrame(rows)).to_dict()
    legend = spec["layer"][0]["encoding"]["color"]
    assert legend["sort"][-1] == "other (4 series)" and len(legend["sort"]) == charts.TOP_SERIES + 1
    # One series more than the top N is drawn as itself, not as an "other" of one.
    assert "other" not in " ".join(charts.top_series(pd.DataFrame(rows[: 2 * (charts.TOP_SERIES + 1)]))["series"])


def test_cost_bars_fade_a_partial_day_and_the_24_hour_view_has_hourly_bars() -> None:
    frame = pd.DataFrame({"day": pd.date_range("2026-11-01", periods=3, freq="D", tz="UTC"), "feature": "chat",
                          "cost": [1.0, 2.0, 0.5], "calls": 10, "unpriced_calls": 0})  # fmt: skip
    spec = charts.cost_by_feature(frame, (START, START + timedelta(days=2))).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert [v["partial"] for v in values] == [True, False, True]
    assert "datum.partial" in json.dumps(spec["encoding"]["opacity"])
    trends = pd.DataFrame({"bucket": pd.date_range("2026-11-01 09:00", periods=3, freq="h", tz="UTC"),
                           "cost": [0.1, 0.2, None], "calls": [3, 4, 0]})  # fmt: skip
    hourly = charts.cost_by_hour(trends, (START, START + timedelta(hours=2))).to_dict()
    assert hourly["mark"]["type"] == "bar" and "hours" in hourly["encoding"]["x"]["timeUnit"]
