"""What the browser tests share: Debian's Chromium, its flags, and `obs dashboard` served on a free port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("OBS_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip

if not CHROMIUM.exists() and os.environ.get("OBS_REQUIRE_BROWSER"):
    raise RuntimeError("OBS_REQUIRE_BROWSER is set but /usr/bin/chromium is missing: apt-get install -y chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it: apt-get install -y chromium)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_dashboard(url: str, env: Mapping[str, str | None] = {}) -> tuple[subprocess.Popen[bytes], str]:
    """`obs dashboard` on ``url`` and a free port (no password; ``env`` adds or, with None, removes variables),
    once it answers; returns the process and its address."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "OBS_DASHBOARD_PASSWORD"}
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "obs"), "dashboard", "--port", str(port), "--database-url", url],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(proc, base)
    return proc, base


def wait_until_serving(proc: subprocess.Popen[bytes], base: str) -> None:
    """Wait (up to a minute) until the Streamlit server at ``base`` answers its health check."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"dashboard did not start: {proc.stdout.read() if proc.stdout else b''!r}")


def port_is_free(base: str) -> bool:
    """Nothing listens any more at ``base`` (http://127.0.0.1:PORT)."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", int(base.rsplit(":", 1)[1]))) != 0


@contextlib.contextmanager
def dashboard_server(url: str, env: Mapping[str, str | None] = {}) -> Iterator[str]:
    """`obs dashboard` on ``url`` (no password; ``env`` adds or, with None, removes variables); yields its address."""
    proc, base = start_dashboard(url, env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
    # `obs dashboard` execs Streamlit: stopping the process stops the server, nothing is left listening.
    assert port_is_free(base), "the dashboard server outlived `obs dashboard`"


@contextlib.contextmanager
def browser_page(**page_options: Any) -> Iterator[Any]:
    """A page in Debian's Chromium (Playwright drives it); screenshots go to ARTIFACTS."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser.new_page(**page_options)
        finally:
            browser.close()
