"""`obs collector` as a user runs it: a process that serves OTLP, refuses to listen beyond loopback without a
token, stores what it is sent and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2

from obs.store.store import Store
from tests.browser import free_port
from tests.test_collector import request_body

OBS = str(Path(sys.executable).parent / "obs")


def test_beyond_loopback_it_wants_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OBS_COLLECTOR_TOKEN"}
    done = subprocess.run([OBS, "collector", "--host", "0.0.0.0", "--database-url", f"sqlite:///{tmp_path}/o.db"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1 and "set OBS_COLLECTOR_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_it_serves_stores_and_stops_on_sigterm(tmp_path: Path) -> None:
    url, port = f"sqlite:///{tmp_path}/o.db", free_port()
    proc = subprocess.Popen([OBS, "collector", "--port", str(port), "--grpc-port", "0", "--database-url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"OTLP/HTTP on http://127.0.0.1:{port}/v1/traces" in first, first
        answer = httpx2.post(f"http://127.0.0.1:{port}/v1/traces", content=request_body(),
                             headers={"content-type": "application/x-protobuf"}, timeout=30)  # fmt: skip
        assert answer.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Stopped." in out
    store = Store(url)
    assert store.stats().calls == 1
    store.close()
