"""Sessions in Debian's Chromium at 1440x900: the list, a row clicked open as a chat, and a turn's trace."""

from __future__ import annotations

import re
from pathlib import Path

from obs.store.store import Store
from obs.ui.sessions import COLUMNS
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium
from tests.test_sessions_page import CHAT, OTHER, UNHAPPY

pytestmark = needs_chromium


def test_a_session_opens_from_the_list_as_a_chat_and_leads_to_its_trace(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url = f"sqlite:///{tmp_path / 'obs.db'}"
    store = Store(url)
    store.write_batch([*CHAT, *OTHER], [], [UNHAPPY])
    store.close()
    with dashboard_server(url) as base, browser_page(viewport={"width": 1440, "height": 900}) as page:
        page.goto(f"{base}/Sessions?window=24h&sort=Cost")
        grid = page.locator("[data-testid='stDataFrame']").first
        expect(grid).to_be_visible(timeout=60_000)
        expect(page.get_by_text("2 sessions")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "12-sessions.png", full_page=True)
        box = grid.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1440  # not cut off on the right
        assert sum(float(c["width"]) for c in COLUMNS.values()) <= box["width"]  # nor are its columns
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row (by cost: s-ana)
        page.wait_for_url(re.compile(r"session=s-ana"), timeout=30_000)
        expect(page.get_by_text("Session s-ana")).to_be_visible(timeout=30_000)
        for said in ("How do I reset my password?", "Use a recovery code.", "Where are the codes?"):
            expect(page.get_by_text(said)).to_be_visible()
        expect(page.get_by_text("thumbs-down", exact=False)).to_have_count(1)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "13-session-chat.png", full_page=True)
        page.get_by_role("link", name="Its trace").nth(2).click()
        expect(page.get_by_text("ms since the trace started")).to_be_visible(timeout=30_000)
        assert CHAT[4].trace_id in page.url
