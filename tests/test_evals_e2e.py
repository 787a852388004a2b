"""End to end in Debian's Chromium: accept a sampled call into a new dataset with an edited expected output, then
download the dataset's JSONL export and read it back. Screenshots land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import obs
from obs.demo.run import run_demo
from obs.evals import Evals, Settings, read_jsonl
from obs.evals.cases import input_messages
from obs.store.store import Store
from obs.ui.datasets import CASE_COLUMNS
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium

pytestmark = needs_chromium
EDITED = "Refunds of yearly plans are prorated; see Billing > Refunds. (edited in the browser)"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("evals-e2e")
    url = f"sqlite:///{folder / 'obs.db'}"
    run_demo(database_url=url, calls=300, live=0, seed=3)
    obs.configure(None)
    store = Store(url)
    now = datetime.now(UTC)
    assert Evals(store).sample(Settings(start=now - timedelta(days=30), end=now, per_rule=5, seed=1)).picks
    store.close()
    with dashboard_server(url, {"OBS_REVIEWER": None}) as base:
        yield base, url


def test_accept_a_call_into_a_new_dataset_then_download_its_export(dashboard: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, url = dashboard
    with browser_page(viewport={"width": 1440, "height": 900}, accept_downloads=True) as page:
        page.goto(f"{base}/Triage?window=30d")
        expect(page.get_by_text("Why it surfaced").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Enter your name as Reviewer")).to_be_visible()

        reviewer = page.locator("[data-testid='stSidebar']").get_by_label("Reviewer")
        reviewer.fill("e2e-reviewer")
        reviewer.press("Enter")
        expect(page.get_by_text("Enter your name as Reviewer")).to_be_hidden(timeout=30_000)
        name = page.get_by_label("New dataset name")
        name.fill("refund-questions")
        name.press("Enter")
        page.wait_for_timeout(500)
        expected = page.get_by_label("Expected output")
        expect(expected).not_to_be_empty()  # prefilled from the model's answer
        expected.fill(EDITED)
        expected.press("Control+Enter")  # commits a text area in Streamlit
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "evals-1-triage.png", full_page=True)
        page.get_by_role("button", name="Accept", exact=True).click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Accepted call", timeout=30_000)
        expect(page.get_by_role("button", name="Undo: accepted call")).to_be_visible()
        expect(page.get_by_text("1 of ")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "evals-2-accepted.png", full_page=True)

        page.goto(f"{base}/Datasets?dataset=refund-questions")
        export = page.get_by_role("button", name="Export JSONL")
        expect(export).to_be_visible(timeout=30_000)
        cases = page.locator("[data-testid='stDataFrame']").last
        expect(cases).to_be_visible()
        box = cases.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1440  # the cases table is not cut off on the right
        assert sum(float(c["width"]) for c in CASE_COLUMNS.values()) <= box["width"]  # nor are its columns
        page.screenshot(path=ARTIFACTS / "evals-3-dataset.png", full_page=True)
        with page.expect_download() as download:
            export.click()
        target = ARTIFACTS / "refund-questions.jsonl"
        download.value.save_as(target)
        suggested = download.value.suggested_filename

    assert suggested == "refund-questions.jsonl"
    lines = read_jsonl(target.read_text(encoding="utf-8"))
    assert len(lines) == 1
    line = lines[0]
    assert (line.dataset, line.ideal, line.reviewer) == ("refund-questions", EDITED, "e2e-reviewer")
    store = Store(url)
    call = store.get_call(line.call_id)
    store.close()
    assert call is not None and line.input == list(input_messages(call)) and line.input
    assert line.original_output == (call.content.output_text if call.content else None)
