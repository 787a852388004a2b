"""End to end in Debian's Chromium: `obs dashboard` on a demo store, from a chart's filters to a call to its trace.

Screenshots land in test-artifacts/ (look at them: they are what a reviewer sees).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import obs
from obs.demo.replies import REFUSAL, UNKNOWN, plan
from obs.demo.run import run_demo
from obs.records import LLMCall
from obs.replay.call import Overrides, build_request
from obs.replay.runs import Selection, run_batch
from obs.store.store import Store
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'obs.db'}"
    run_demo(database_url=url, calls=300, live=0, seed=3)
    obs.configure(None)
    return url


@pytest.fixture(scope="module")
def dashboard(demo_store: str) -> Iterator[str]:
    # The Redaction page reads (and saves) this policy file, never one in the working directory.
    policy_file = Path(demo_store.removeprefix("sqlite:///")).parent / "obs-privacy.toml"
    policy_file.write_text(
        '[default]\nmode = "full"\n\n[features.help_answer]\nmode = "redact"\n\n'
        '[features.ticket_triage]\nmode = "sample"\nsample_rate = 0.2\nsample_redact = true\n'
    )
    with dashboard_server(demo_store, {"OBS_PRIVACY_FILE": str(policy_file)}) as base:
        yield base


def test_from_overview_through_a_filter_to_a_call_and_its_trace(dashboard: str) -> None:
    from playwright.sync_api import expect

    with browser_page(viewport={"width": 1400, "height": 1000}) as page:
        page.goto(f"{dashboard}/?window=30d")
        expect(page.get_by_text("Thumbs-down rate")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "1-overview.png", full_page=True)

        # A bar of the cost chart leads to the calls of that day.
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        page.wait_for_timeout(1000)
        # The centre of the tallest bar: a fixed point of the chart can fall between two bars, or above a short
        # one, depending on the day the demo ran.
        bars = chart.locator("g.mark-rect.role-mark path").evaluate_all(
            "els => els.map(el => { const r = el.getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2, h: r.height}; })"
        )
        assert bars, "the cost chart has no bars"
        bar = max(bars, key=lambda b: b["h"])
        page.mouse.click(bar["x"], bar["y"])
        drill = page.get_by_role("link", name="Open the calls of")
        expect(drill).to_be_visible(timeout=30_000)
        drill.click()
        page.wait_for_url(re.compile(r"/Calls\?.*window=custom"), timeout=30_000)
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "1b-calls-of-a-day.png", full_page=True)
        page.goto(f"{dashboard}/?window=30d")
        expect(page.get_by_text("Thumbs-down rate")).to_be_visible(timeout=30_000)

        # Change a filter: it narrows the page and lands in the URL (a shareable link).
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("combobox", name="Feature").click()
        page.get_by_role("option", name="help_answer").click()
        page.wait_for_url(re.compile(r"feature=help_answer"), timeout=30_000)
        page.screenshot(path=ARTIFACTS / "2-filtered.png", full_page=True)

        # The calls of that filter, one page at a time; open the first.
        sidebar.get_by_role("link", name="Calls").click()
        page.wait_for_url(re.compile(r"/Calls\?.*feature=help_answer"), timeout=30_000)
        grid = page.locator("[data-testid='stDataFrame']").first
        expect(grid).to_be_visible(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "3-calls.png", full_page=True)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's selection marker
        expect(page.get_by_text("What the model saw")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("You are a").first).to_be_visible()
        page.screenshot(path=ARTIFACTS / "4-call.png", full_page=True)

        # Follow the call to its trace.
        page.get_by_role("link", name="Open its trace").click()
        expect(page.get_by_text("ms since the trace started")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Retrieved").first).to_be_visible()
        page.screenshot(path=ARTIFACTS / "5-trace.png", full_page=True)


def test_the_dashboard_watches_no_files(dashboard: str) -> None:
    # Streamlit's watcher (watchdog, inotify) sees every open of every file near the app, a virtualenv inside the
    # checkout included; under load its queue overflowed and its warnings, on a full stdout, stopped the server.
    from playwright.sync_api import expect

    with browser_page() as page:  # a session runs the app: Streamlit would start watching its files now
        page.goto(f"{dashboard}/Calls?window=30d")
        expect(page.get_by_text("Time window")).to_be_visible(timeout=30_000)
    port = dashboard.rsplit(":", 1)[1]
    pids = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _serves(p, port)]
    assert pids, f"no process serves port {port}"
    for pid in pids:
        links = [os.readlink(fd) for fd in (pid / "fd").iterdir() if fd.is_symlink()]
        assert not [link for link in links if "inotify" in link], f"{pid.name} watches files: {links}"


def _serves(proc: Path, port: str) -> bool:
    try:
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"obs.cli.dashboard_server" in argv and port.encode() in argv


def test_a_planted_alert_leads_in_two_clicks_to_the_calls_behind_it(dashboard: str) -> None:
    from playwright.sync_api import expect

    with browser_page(viewport={"width": 1400, "height": 1000}) as page:
        page.goto(dashboard)
        # `obs demo` ran the default rules: the unhappy user is at the top of the overview.
        alert = page.get_by_text("Unhappy user: thumbs-down in a row")
        expect(alert).to_be_visible(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "8-overview-alerts.png", full_page=True)
        row = page.locator("[data-testid='stHorizontalBlock']").filter(has_text="Unhappy user")
        row.get_by_role("link", name="Calls behind it").click()  # click 1
        page.wait_for_url(re.compile(r"/Calls\?.*user_id=globex-user-07.*feedback=thumbs_down"), timeout=30_000)
        grid = page.locator("[data-testid='stDataFrame']").first
        expect(grid).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Page 1 of 1")).to_be_visible()
        expect(page.get_by_text(re.compile(r"^([5-9]|\d\d+) calls$"))).to_be_visible()
        page.screenshot(path=ARTIFACTS / "9-alert-calls.png", full_page=True)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # click 2: the first call
        expect(page.get_by_text("What the model saw")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("globex-user-07").first).to_be_visible()
        expect(page.get_by_text("feedback thumbs_down")).to_be_visible()


def test_open_a_refused_call_replay_it_with_a_fixed_prompt_and_see_the_diff(dashboard: str, demo_store: str) -> None:
    from playwright.sync_api import expect

    call, fixed = _refusal_and_fix(demo_store)
    with browser_page(viewport={"width": 1400, "height": 1900}) as page:  # tall: the diff is below the form
        page.goto(f"{dashboard}/Calls?window=30d&call={call.id}")
        expect(page.get_by_text("What the model saw")).to_be_visible(timeout=30_000)
        page.get_by_role("link", name="Replay this call").click()
        page.wait_for_url(re.compile(rf"/Replay\?.*call={call.id}"), timeout=30_000)
        prompt = page.get_by_label("System prompt")
        expect(prompt).to_have_value(call.content.system_prompt or "", timeout=30_000)  # type: ignore[union-attr]
        prompt.fill(fixed)
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_text("Answer changed")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("(the original refused)")).to_be_visible()
        expect(page.locator("span[style*='ccf5d3']").first).to_be_visible()  # inserted words, in green
        expect(page.locator("span[style*='ffd7d5']").first).to_contain_text("sorry")  # the refusal, struck out
        page.evaluate("document.activeElement.blur()")
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "6-replay.png", full_page=True)

        # A batch run over the feature's calls, opened from the run history.
        run_batch(Store(demo_store), Selection(feature="help_answer", limit=8), Overrides(model="gpt-4.1"),
                  name="help on gpt-4.1", concurrency=4)  # fmt: skip
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{dashboard}/Replay?window=30d")
        page.get_by_role("link", name="Open run help on gpt-4.1").click()
        expect(page.get_by_text("Answers changed")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "7-replay-run.png", full_page=True)


def _refusal_and_fix(url: str) -> tuple[LLMCall, str]:
    """A help answer the model refused under prompt v3, and the v3 prompt with its "refuse" sentence taken back
    to v2's wording; the demo provider's planner (deterministic) confirms the fix gets an answer."""
    v3_rule = "Answer strictly from the help center context below. If the context does not fully answer the "
    v3_rule += "question, refuse rather than guess."
    v2_rule = "Answer from the help center context below, in a friendly tone, citing the relevant steps."
    store = Store(url)
    with store.engine.connect() as connection:
        ids = connection.execute(sa.text(
            "SELECT id FROM llm_calls WHERE feature = 'help_answer' AND is_refusal AND source = 'sdk' "
            "AND model = 'claude-haiku-4-5' ORDER BY ts DESC"
        )).scalars().all()  # fmt: skip
    for call_id in ids:
        call = store.get_call(call_id)
        if call is None or call.content is None or v3_rule not in (call.content.system_prompt or ""):
            continue
        fixed = (call.content.system_prompt or "").replace(v3_rule, v2_rule)
        _, request = build_request(call, Overrides(system_prompt=fixed))
        answer = plan(request)
        if answer.error_status is None and answer.text and answer.text not in (REFUSAL, UNKNOWN):
            store.close()
            return call, fixed
    store.close()
    raise AssertionError("the demo store has no refused help answer that the v2 wording fixes")


def test_redaction_preview_shows_findings_and_both_redactions_of_a_pasted_text(dashboard: str) -> None:
    from playwright.sync_api import expect

    with browser_page(viewport={"width": 1400, "height": 1000}) as page:
        page.goto(f"{dashboard}/Redaction?window=30d")
        expect(page.get_by_text("Policies from")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Findings under the edited policy")).to_be_visible(timeout=60_000)
        page.get_by_text("Pasted text").click()
        page.get_by_role("combobox", name="Feature (whose policy applies)").click()
        page.get_by_role("option", name="help_answer").click()
        # The planted email is marked with its entity, and neither column stores it.
        expect(page.locator("mark").filter(has_text="maria.garcia@example.com")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("EMAIL_ADDRESS 1.00")).to_be_visible()
        stored = page.locator("[data-testid='stText']")
        expect(stored.first).to_contain_text("<EMAIL_ADDRESS>", timeout=30_000)
        assert "maria.garcia@example.com" not in " ".join(stored.all_inner_texts())
        expect(page.get_by_text("What the store would keep for this call")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "10-redaction.png", full_page=True)
