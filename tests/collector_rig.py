"""The collector test rig: the real receiver and both transports on free ports, a real store of each dialect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from obs.collector.receiver import Receiver
from obs.collector.server import serve
from obs.recorder.queue import Recorder
from obs.store.store import Store
from tests.browser import free_port


@dataclass
class Collector:
    http: str
    grpc: str
    store: Store
    receiver: Receiver


@pytest.fixture
def collector(db_url: str, tmp_path: Path) -> Iterator[Collector]:
    recorder = Recorder(db_url, spool_dir=tmp_path / "spool")
    receiver = Receiver(recorder, token="s3cret", max_body=256 * 1024)
    http_port, grpc_port = free_port(), free_port()
    web, rpc, _ = serve(receiver, "127.0.0.1", http_port, grpc_port)
    store = Store(db_url)
    yield Collector(f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", store, receiver)
    web.shutdown()
    rpc.stop(grace=1).wait()
    recorder.shutdown(timeout=2)
    store.close()
