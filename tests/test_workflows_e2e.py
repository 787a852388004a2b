"""Daily workflows in Debian's Chromium at 1440x900 on a demo store: a filtered Calls page and back, triage with the
reviewer remembered, an alert rule edited then checked, a redaction preview with an allow-listed term.

(Drilling down from each chart: test_overview_clicks_e2e; opening a session: test_sessions_e2e; replay with an
edited prompt: test_dashboard_e2e.) Screenshots land in CI's artifacts folder as workflow-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import obs
from obs.alerts import engine
from obs.demo.run import run_demo
from obs.evals import Evals, Settings
from obs.store.store import Store
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium

pytestmark = needs_chromium
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("workflows")
    url = f"sqlite:///{folder / 'obs.db'}"
    run_demo(database_url=url, calls=400, live=0, seed=5)
    obs.configure(None)
    store = Store(url)
    now = datetime.now(UTC)
    assert Evals(store).sample(Settings(start=now - timedelta(days=30), end=now, per_rule=5, seed=1)).picks
    store.close()
    policy = folder / "obs-privacy.toml"
    policy.write_text('[default]\nmode = "redact"\n')
    with dashboard_server(url, {"OBS_REVIEWER": None, "OBS_PRIVACY_FILE": str(policy)}) as base:
        yield base, url


def _shot(page: Any, name: str) -> None:
    page.mouse.move(1, 1)
    page.wait_for_timeout(400)
    page.screenshot(path=ARTIFACTS / f"workflow-{name}.png", full_page=True)


def _settle(page: Any) -> None:
    """Wait until the page's script has finished its run (an edit or a click reruns it) and the page is still."""
    page.wait_for_timeout(300)
    page.wait_for_function("document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === "
                           "'notRunning'", timeout=30_000)  # fmt: skip
    page.wait_for_timeout(500)


def _grid(page: Any) -> Any:
    from playwright.sync_api import expect

    grid = page.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)
    return grid


def test_a_filtered_calls_page_opens_a_call_and_back_returns_to_the_same_page(demo: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, _ = demo
    with browser_page(viewport=VIEWPORT) as page:
        page.goto(f"{base}/Calls?window=30d&feature=help_answer")
        _grid(page)
        page.get_by_role("combobox", name="Status").click()
        page.get_by_role("option", name="ok", exact=True).click()
        page.wait_for_url(re.compile(r"status=ok"), timeout=30_000)
        page.get_by_role("button", name="Next →").click()
        page.wait_for_url(re.compile(r"page=2"), timeout=30_000)
        expect(page.get_by_text(re.compile(r"^Page 2 of \d+$"))).to_be_visible(timeout=30_000)
        grid = _grid(page)
        box = grid.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1440  # not cut off on the right
        _shot(page, "2-calls-filtered")
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the page's first call
        page.wait_for_url(re.compile(r"call="), timeout=30_000)
        expect(page.get_by_text("What the model saw")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("feature help_answer").first).to_be_visible()
        _shot(page, "2-call")
        page.get_by_role("button", name="Back to the list").click()
        page.wait_for_url(lambda url: "call=" not in url, timeout=30_000)
        for kept in ("feature=help_answer", "status=ok", "page=2", "window=30d"):
            assert kept in page.url, (kept, page.url)
        expect(page.get_by_text(re.compile(r"^Page 2 of \d+$"))).to_be_visible(timeout=30_000)
        expect(page.get_by_role("combobox", name="Status")).to_have_value("ok")


def test_triage_accept_reject_and_undo_with_the_reviewer_remembered(demo: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, url = demo
    with browser_page(viewport=VIEWPORT) as page:
        page.goto(f"{base}/Triage?window=30d")
        expect(page.get_by_text("Why it surfaced").first).to_be_visible(timeout=30_000)
        reviewer = page.locator("[data-testid='stSidebar']").get_by_label("Reviewer")
        reviewer.fill("ana")
        reviewer.press("Enter")
        page.wait_for_url(re.compile(r"reviewer=ana"), timeout=30_000)
        # Reloaded (or opened again from a bookmark): the name is still there, from the URL.
        page.reload()
        expect(page.locator("[data-testid='stSidebar']").get_by_label("Reviewer")).to_have_value("ana", timeout=30_000)
        expect(page.get_by_text("Enter your name as Reviewer")).to_be_hidden()

        name = page.get_by_label("New dataset name")
        name.fill("workflow-set")
        name.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Accept", exact=True).click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Accepted call", timeout=30_000)
        _shot(page, "4-accepted")
        page.get_by_role("button", name="Reject", exact=True).click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Rejected call", timeout=30_000)
        undo = page.get_by_role("button", name=re.compile(r"^Undo: rejected call"))
        expect(undo).to_be_visible()
        _shot(page, "4-rejected")
        undo.click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Undone: rejected call", timeout=30_000)
        expect(page.get_by_role("button", name=re.compile(r"^Undo: accepted call"))).to_be_visible()
        assert "reviewer=ana" in page.url
        _shot(page, "4-undone")
    store = Store(url)
    try:
        cases = Evals(store).dataset_cases("workflow-set")
        assert [c.case.reviewer for c in cases] == ["ana"]  # the accepted one stays; the rejection was undone
    finally:
        store.close()


def test_an_alert_rule_edited_in_the_table_then_checked_fires_as_edited(demo: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    from obs.ui.alerts import RULE_COLUMNS

    base, url = demo
    offsets: dict[str, tuple[float, float]] = {}
    x = 0.0
    for column, settings in RULE_COLUMNS.items():
        offsets[column] = (x, float(settings["width"]))
        x += float(settings["width"])
    with browser_page(viewport=VIEWPORT) as page:
        page.goto(f"{base}/Alerts?window=30d")
        expect(page.get_by_text("Daily budget per feature").first).to_be_attached(timeout=30_000)
        grid = page.locator("[data-testid='stDataFrame']").first
        grid.scroll_into_view_if_needed()
        for column, typed in (("window", "30 days"), ("threshold", "$0.01")):
            _settle(page)
            box = grid.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1440
            left, width = offsets[column]
            row_y = box["y"] + 35 + 4 * 35 + 17  # the fifth rule: "Daily budget per feature", 24 hours, $100
            page.mouse.click(box["x"] + left + width / 2, row_y)  # selects the cell
            page.wait_for_timeout(300)
            page.keyboard.type(typed, delay=30)  # typing on a selected cell replaces its value
            page.wait_for_timeout(300)
            page.keyboard.press("Enter")
        _settle(page)
        _shot(page, "6-rule-edited")
        page.get_by_role("button", name="Save rule changes").click()
        expect(page.get_by_text("1 rule(s) saved")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Check now").click()
        _settle(page)
        _shot(page, "6-checked")
        firing = page.get_by_text(re.compile(r"spent in 30 days \(budget \$0\.01\)")).first
        expect(firing).to_be_visible(timeout=30_000)
    store = Store(url)
    try:
        rule = next(r for r in engine.load_rules(store) if r.name == "Daily budget per feature")
        assert (rule.window_minutes, rule.threshold) == (30 * 24 * 60, 0.01)
    finally:
        store.close()


def test_a_redaction_preview_keeps_an_allow_listed_term(demo: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, _ = demo
    with browser_page(viewport=VIEWPORT) as page:
        page.goto(f"{base}/Redaction?window=30d")
        expect(page.get_by_text("Findings under the edited policy")).to_be_visible(timeout=60_000)
        page.get_by_text("Pasted text").click()
        text = page.get_by_role("textbox", name="Text", exact=True)
        text.fill("Hi, Maria Garcia here: Flowdesk Settings will not open for me.")
        text.press("Control+Enter")
        flagged = page.locator("mark").filter(has_text="Flowdesk")
        expect(flagged.first).to_be_visible(timeout=60_000)  # the small spaCy model calls the product a PERSON
        _shot(page, "7-redaction-before")
        allow = page.get_by_role("textbox", name="Never redact")
        allow.fill("Flowdesk, Settings")
        allow.press("Enter")
        expect(flagged).to_have_count(0, timeout=30_000)
        expect(page.locator("mark").filter(has_text="Maria Garcia")).to_be_visible()
        stored = page.locator("[data-testid='stText']").filter(has_text="will not open")
        expect(stored.first).to_contain_text("<PERSON> here: Flowdesk Settings will not open", timeout=30_000)
        _shot(page, "7-redaction-allowed")
        height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        assert height < 2.6 * VIEWPORT["height"], height  # about two screens
