"""Clicking a point or a bar of each Overview chart opens the Calls page filtered to that bucket and to the clicked
series (feature; model and prompt version; none for a percentile or the error rate): the link a click makes, then
every chart clicked in Debian's Chromium.

Screenshots land in test-artifacts/overview-click-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import obs
from obs.demo.run import run_demo
from obs.ui.charts import NONE
from obs.ui.state import Filters
from obs.ui.views import calls_link
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium

WINDOW = Filters(window="30d", start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC))


def test_a_bar_links_to_its_day_and_feature_keeping_the_other_filters() -> None:
    filters = replace(WINDOW, tenant_id="acme")
    link = calls_link({"utcyearmonthdate_bucket": "2026-11-11T00:00:00.000Z", "feature": "help_answer"}, filters)
    assert link == (
        "Open the calls of Nov 11 (UTC day) · feature help_answer →",
        {"window": "custom", "start": "2026-11-11T00:00:00+00:00", "end": "2026-11-12T00:00:00+00:00",
         "tenant_id": "acme", "feature": "help_answer"},
    )  # fmt: skip


def test_an_hourly_point_links_to_its_hour_model_and_prompt_version() -> None:
    hour = datetime(2026, 11, 30, 23, tzinfo=UTC)
    point = {"utcyearmonthdatehours_bucket": hour.timestamp() * 1000, "model": "gpt-4.1", "prompt_version": "v3"}
    label, params = calls_link(point, WINDOW) or ("", {})
    assert label == "Open the calls of Nov 30 23:00–00:00 UTC · model gpt-4.1 · prompt v3 →"
    assert params == {"window": "custom", "start": "2026-11-30T23:00:00+00:00", "end": "2026-12-01T00:00:00+00:00",
                      "model": "gpt-4.1", "prompt_version": "v3"}  # fmt: skip


def test_a_missing_feature_or_prompt_version_is_no_filter_and_no_bucket_no_link() -> None:
    point = {"utcyearmonthdate_bucket": "2026-11-11T00:00:00.000Z", "model": "gpt-4.1", "prompt_version": "(none)"}
    label, params = calls_link(point, WINDOW) or ("", {})
    assert label == "Open the calls of Nov 11 (UTC day) · model gpt-4.1 →" and "prompt_version" not in params
    assert calls_link({"feature": "help_answer"}, WINDOW) is None


#: Each chart of the Overview (in page order), the SVG marks a person clicks, and the URL parameters the link must
#: carry besides the bucket, read from the clicked mark's tooltip (its aria-label).
CHARTS = {
    "cost": (0, "g.mark-rect.role-mark path", {"feature": "feature"}),
    "latency": (1, "g.mark-symbol.role-mark path", {}),  # a percentile is not a call filter: the bucket only
    "refusal": (2, "g.mark-symbol.role-mark path", {"model": "model", "prompt_version": "prompt_version"}),
    "error": (3, "g.mark-symbol.role-mark path", {}),
}

#: Every mark of a chart with its tooltip text and centre on the page.
MARKS_JS = """(chart, selector) => Array.from(chart.querySelectorAll(selector)).map((el, i) => {
    const r = el.getBoundingClientRect();
    return {i: i, label: el.getAttribute('aria-label') || '', x: r.x + r.width / 2, y: r.y + r.height / 2,
            h: r.height};
})"""


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('clicks') / 'obs.db'}"
    # 10 days of 800 calls: the busiest model and prompt versions have the calls a day a rate needs (MIN_RATE_CALLS).
    run_demo(database_url=url, days=10, calls=800, live=0, seed=3)
    obs.configure(None)
    with dashboard_server(url) as base:
        yield base


def _settled_marks(page: Any, chart: Any, selector: str) -> list[dict[str, Any]]:
    """The chart's marks once the page stops moving (the firing alerts above render late and push it down: a
    click measured before lands on another point)."""
    marks = chart.evaluate(MARKS_JS, selector)
    for _ in range(20):
        page.wait_for_timeout(500)
        marks, before = chart.evaluate(MARKS_JS, selector), marks
        if marks == before:
            return marks
    raise AssertionError("the Overview kept moving for 10 s")


def _tooltip(label: str) -> dict[str, str]:
    """A mark's aria-label ("bucket: Nov 02, 2026; feature: help_answer; calls: 8") as a dict."""
    return dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)


def _mark_to_click(marks: list[dict[str, Any]], needs: dict[str, str]) -> dict[str, Any]:
    """A mark well inside the window (the first day is partial) that no other mark covers, so a click on its
    centre can only mean it; among those, the one with the most calls (refusal: a non-zero rate)."""

    def clear(mark: dict[str, Any]) -> bool:
        others = (m for m in marks if m is not mark)
        return mark["h"] >= 4 and all(abs(m["x"] - mark["x"]) + abs(m["y"] - mark["y"]) > 12 for m in others)

    first_day = min(_day(_tooltip(m["label"])) for m in marks)
    candidates = [
        m for m in marks
        if clear(m) and _day(_tooltip(m["label"])) > first_day
        and all(_tooltip(m["label"]).get(k) not in (None, "", NONE) for k in needs)  # "other" filters no series
        and _tooltip(m["label"]).get("refusal_rate", "1") not in ("0.0%", "0%")
    ]  # fmt: skip
    assert candidates, "no mark stands apart to click"
    return max(candidates, key=lambda m: int(_tooltip(m["label"]).get("calls", "0").replace(",", "")))


def _day(tooltip: dict[str, str]) -> datetime:
    return datetime.strptime(tooltip["bucket"], "%b %d, %Y").replace(tzinfo=UTC)


@needs_chromium
@pytest.mark.parametrize("chart_name", list(CHARTS))
def test_clicking_a_mark_opens_the_calls_of_its_bucket_and_series(dashboard: str, chart_name: str) -> None:
    from playwright.sync_api import expect

    index, selector, series = CHARTS[chart_name]
    # The tooltip writes the bucket in the browser's time zone; UTC makes it the link's (UTC) bucket.
    with browser_page(viewport={"width": 1400, "height": 1000}, timezone_id="UTC") as page:
        page.goto(f"{dashboard}/?window=30d")
        expect(page.get_by_text("Thumbs-down rate")).to_be_visible(timeout=60_000)
        chart = page.locator("[data-testid='stVegaLiteChart']").nth(index)
        expect(chart.locator(selector).first).to_be_attached(timeout=60_000)
        chart.scroll_into_view_if_needed()
        mark = _mark_to_click(_settled_marks(page, chart, selector), series)
        tooltip = _tooltip(mark["label"])
        # Clicked through its locator, so the position is measured at the click (the page may still shift);
        # forced, because Vega's invisible nearest-point layer lies on top of the marks and takes the click.
        chart.locator(selector).nth(mark["i"]).click(force=True)
        page.mouse.move(1, 1)  # the tooltip would cover the link in the screenshot

        link = page.get_by_role("link", name="Open the calls of")
        expect(link).to_be_visible(timeout=30_000)
        link.scroll_into_view_if_needed()  # the page scrolls inside Streamlit's main block: full_page can't show it
        page.screenshot(path=ARTIFACTS / f"overview-click-{chart_name}.png")
        query = {k: v[0] for k, v in parse_qs(urlsplit(link.get_attribute("href") or "").query).items()}
        day = _day(tooltip)
        assert query["window"] == "custom"
        assert datetime.fromisoformat(query["start"]) == day
        assert datetime.fromisoformat(query["end"]) == day + timedelta(days=1)
        wanted = {param: tooltip[field] for param, field in series.items()}
        assert {k: query.get(k) for k in ("feature", "model", "prompt_version")} == {
            k: wanted.get(k) for k in ("feature", "model", "prompt_version")
        }
        for value in wanted.values():
            expect(link).to_contain_text(value)  # the person reads which series the link keeps

        link.click()
        page.wait_for_url(re.compile(r"/Calls\?.*window=custom"), timeout=30_000)
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
        if "calls" in tooltip:  # the calls behind the mark, no more, no fewer
            expect(page.get_by_text(f"{tooltip['calls']} calls", exact=True)).to_be_visible(timeout=30_000)
            expect(page.get_by_text(re.compile(r"^Page 1 of \d+$"))).to_be_visible()
        if "prompt_version" in wanted:
            expect(page.get_by_label("Prompt version")).to_have_value(wanted["prompt_version"])
        page.screenshot(path=ARTIFACTS / f"overview-click-{chart_name}-calls.png", full_page=True)
