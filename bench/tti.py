"""Time to interactive of every dashboard page in Chromium (a benchmark: the demo store by default).

    .venv/bin/python -m bench.tti [--database-url sqlite:///obs.db] [--runs 5] [--window 30d] [--screenshots DIR]

`obs dashboard` serves the store; Debian's Chromium (Playwright) opens each page by its URL in a new tab at
1440x900, and the time is from the tab's navigation start until Streamlit's script has finished (the app's
``data-test-script-state`` is ``notRunning``, its running indicator gone) with the page's title drawn, and stays so
for 300 ms. The first visit of each page (a cold query cache) is reported apart from the median of the others.
Where the time goes is split in two: until the page's websocket connected, and from then on (the script's run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, FLAGS, start_dashboard  # noqa: E402

#: Page -> its URL path (the Trace page needs a trace: the slowest call's, found by the Latency page's query).
PAGES = {
    "Overview": "", "Costs": "Costs", "Latency": "Latency", "Calls": "Calls", "Sessions": "Sessions",
    "Trace": "Trace", "Replay": "Replay", "Triage": "Triage", "Datasets": "Datasets", "Alerts": "Alerts",
    "Redaction": "Redaction",
}  # fmt: skip

#: Resolves with performance.now() at the moment the page became (and then stayed, 300 ms) interactive, and the
#: moment its websocket connected.
_SETTLED = """() => new Promise(resolve => {
  let since = null;
  const tick = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const ok = app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
      && document.querySelector('[data-testid="stMain"] h1');
    const now = performance.now();
    if (ok) {
      if (since === null) since = now;
      if (now - since >= 300) return resolve([since, window.__obsConnected ?? since]);
    } else since = null;
    requestAnimationFrame(tick);
  };
  tick();
})"""
#: Notes when the app's connection state first reads CONNECTED (injected before any script of the page runs).
_WATCH_CONNECTION = """new MutationObserver((_, observer) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app && app.dataset.testConnectionState === 'CONNECTED') {
    window.__obsConnected = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, childList: true});"""


Visits = dict[str, list[tuple[float, float]]]


def measure(base: str, runs: int, window: str, trace: str | None, shots: Path | None) -> Visits:
    from playwright.sync_api import sync_playwright

    times: Visits = {name: [] for name in PAGES}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(_WATCH_CONNECTION)
        for run in range(runs):
            for name, path in PAGES.items():
                query = f"?window={window}" + (f"&trace={trace}" if name == "Trace" and trace else "")
                page = context.new_page()
                page.goto(f"{base}/{path}{query}", wait_until="commit")
                settled, connected = page.evaluate(_SETTLED)
                times[name].append((settled, connected))
                if shots is not None and run == 0:
                    _screenshot(page, shots / f"{name.lower()}.png")
                page.close()
        browser.close()
    return times


def _screenshot(page: Any, path: Path) -> None:
    # Streamlit scrolls its main block, not the page: the viewport grows to the block's height for the picture.
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, int(height))})
    page.wait_for_timeout(800)
    page.screenshot(path=path)
    print(f"{path.name}: {height:,} px long")
    page.set_viewport_size({"width": 1440, "height": 900})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("OBS_DATABASE_URL", "sqlite:///obs.db"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--window", default="30d")
    parser.add_argument("--screenshots", type=Path, help="save a full-page screenshot of each page's first visit")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"needs {CHROMIUM}: apt-get install -y chromium")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    trace = _a_trace(args.database_url)
    proc, base = start_dashboard(args.database_url)
    try:
        times = measure(base, max(2, args.runs), args.window, trace, args.screenshots)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"store {args.database_url}, window {args.window}, {max(2, args.runs)} visits a page")
    print(f"{'page':<11} {'first visit':>12} {'then (median)':>14} {'range':>15} {'connecting':>11} {'running':>9}")
    for name, visits in times.items():
        warm = [s for s, _ in visits[1:]]
        connecting = statistics.median(c for _, c in visits[1:])
        median = statistics.median(warm)
        print(f"{name:<11} {visits[0][0]:>9,.0f} ms {median:>11,.0f} ms {min(warm):>6,.0f}..{max(warm):>5,.0f} ms "
              f"{connecting:>8,.0f} ms {median - connecting:>6,.0f} ms")  # fmt: skip


def _a_trace(url: str) -> str | None:
    from obs.store import queries
    from obs.store.store import Store

    store = Store(url)
    try:
        from datetime import UTC, datetime, timedelta

        end = datetime.now(UTC)
        rows = queries.run("slowest_calls", db=store, start=end - timedelta(days=90), end=end, feature=None,
                           model=None, tenant_id=None, user_id=None, limit=1)  # fmt: skip
        return None if rows.empty else str(rows.iloc[0]["trace_id"])
    finally:
        store.close()


if __name__ == "__main__":
    main()
