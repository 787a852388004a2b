"""`obs dashboard` stops when told to: SIGTERM ends it within 5 s, with a browser on a page, and even when Streamlit's
own shutdown hangs (obs.cli.dashboard_server's watchdog)."""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import textwrap
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import obs
from obs import config
from obs.demo.run import run_demo
from tests.browser import (
    ARTIFACTS,
    browser_page,
    free_port,
    needs_chromium,
    port_is_free,
    start_dashboard,
    wait_until_serving,
)

#: What the issue asks: SIGTERM ends `obs dashboard` within this many seconds.
BOUND_S = 5.0
RUNS = 10


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('stop') / 'obs.db'}"
    run_demo(database_url=url, calls=300, live=0, seed=3)
    obs.configure(None)
    return url


def _stop(proc: subprocess.Popen[Any]) -> tuple[float, int | None]:
    """SIGTERM, then the seconds until the process ended (None for the code if it outlived twice the bound)."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code: int | None = proc.wait(2 * BOUND_S)
    except subprocess.TimeoutExpired:
        code = None
    return time.monotonic() - started, code


@needs_chromium
def test_sigterm_ends_the_dashboard_within_5_s_with_a_browser_on_a_page(demo_store: str) -> None:
    from playwright.sync_api import expect

    times: list[float] = []
    forced = 0  # stops the watchdog ended (within the bound too, but not Streamlit's own)
    proc, base = start_dashboard(demo_store)
    following: Future[tuple[subprocess.Popen[bytes], str]] | None = None
    with ThreadPoolExecutor(1) as starter, browser_page(viewport={"width": 1400, "height": 1000}) as page:
        try:
            for run in range(RUNS):
                # The next server starts while this one renders (quicker), so the stop competes for the CPU too.
                following = starter.submit(start_dashboard, demo_store) if run < RUNS - 1 else None
                page.goto(f"{base}/?window=30d")
                expect(page.get_by_text("Thumbs-down rate")).to_be_visible(timeout=60_000)
                expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=60_000)
                seconds, code = _stop(proc)
                output = proc.stdout.read().decode(errors="replace") if proc.stdout and code is not None else ""
                assert code is not None and seconds <= BOUND_S, f"run {run}: running {seconds:.1f} s after SIGTERM"
                assert port_is_free(base), f"run {run}: the port outlived the process"
                assert "Traceback" not in output, output
                times.append(seconds)
                forced += "exiting anyway" in output
                if following:
                    proc, base = following.result()
                    following = None
        finally:
            proc.kill()
            proc.wait()
            if following:
                following.result()[0].kill()
    ARTIFACTS.mkdir(exist_ok=True)
    summary = (f"{RUNS} SIGTERMs with a browser on the overview: median {statistics.median(times):.2f} s, "
               f"max {max(times):.2f} s, {forced} ended by the watchdog; each: "
               f"{', '.join(f'{t:.2f}' for t in times)}\n")  # fmt: skip
    (ARTIFACTS / "dashboard-stop-times.txt").write_text(summary)
    print(summary)


@needs_chromium
def test_a_shutdown_that_never_ends_is_cut_short_by_the_watchdog(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # A page that leaves a thread behind which never ends: Streamlit stops its server, then Python waits for the
    # thread at exit, for ever (what `streamlit run` does with this page).
    app = tmp_path / "hangs.py"
    app.write_text(
        textwrap.dedent("""
        import threading
        import streamlit as st

        threading.Thread(target=threading.Event().wait, daemon=False).start()
        st.write("a thread that never ends is running")
    """)
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "obs.cli.dashboard_server", str(app), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_until_serving(proc, base)
    with browser_page() as page:
        page.goto(base)
        expect(page.get_by_text("a thread that never ends is running")).to_be_visible(timeout=60_000)
        seconds, code = _stop(proc)
    if code is None:
        proc.kill()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert code == 128 + signal.SIGTERM, output
    assert seconds <= BOUND_S
    assert f"had not stopped {config.DASHBOARD_STOP_TIMEOUT_S:g} s after SIGTERM; exiting anyway" in output
    assert port_is_free(base)


def _bounded(body: str) -> subprocess.Popen[str]:
    """A Python process that bounds its stop to half a second, then runs ``body`` once it has printed "ready"."""
    script = "from obs.cli.dashboard_server import bound_stop\nbound_stop(0.5)\n" + textwrap.dedent(body)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n", proc.communicate()
    return proc


def test_a_process_that_ignores_sigterm_still_ends() -> None:
    proc = _bounded("""
        import signal, time
        signal.signal(signal.SIGTERM, lambda *_: None)  # asked to stop, it does not
        print("ready", flush=True)
        time.sleep(60)
    """)
    seconds, code = _stop(proc)
    assert code == 128 + signal.SIGTERM and seconds <= BOUND_S
    assert "had not stopped 0.5 s after SIGTERM; exiting anyway" in proc.communicate()[1]


def test_a_hang_while_the_interpreter_tears_down_is_ended_by_the_kernel() -> None:
    # Stopping normally, the process hangs in its teardown, where no thread of Python runs any more: the alarm the
    # watchdog set at the signal ends it.
    proc = _bounded("""
        import signal, sys, time

        class HangsWhenCollected:
            def __del__(self):
                time.sleep(60)

        keep = HangsWhenCollected()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print("ready", flush=True)
        time.sleep(60)
    """)
    seconds, code = _stop(proc)
    assert code == -signal.SIGALRM and seconds <= BOUND_S


def test_a_process_that_stops_by_itself_is_not_cut_short() -> None:
    proc = _bounded("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print("ready", flush=True)
        time.sleep(60)
    """)
    _, code = _stop(proc)
    assert code == 0
    assert "exiting anyway" not in proc.communicate()[1]
