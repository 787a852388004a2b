"""The proxy's test rig: a real local upstream that answers like OpenAI and Anthropic (the fakes of
``fake_openai`` / ``fake_anthropic`` behind a real HTTP server), and ``obs proxy``'s server in front of it.

The upstream sends a stream event by event in chunked encoding (``x-fake-drip: 0.2`` waits that long before each
event), keeps the headers and body of every request it got, and acts out what the fakes only raise:
``fail-timeout`` holds the request without answering, ``fail-connect`` drops the connection, ``break-stream``
cuts a stream off mid-way.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa

from obs import config
from obs.proxy.server import Background, ProxyServer
from obs.recorder.queue import Recorder
from obs.replay.providers import Provider
from tests.fake_anthropic import FakeAnthropic
from tests.fake_openai import FakeOpenAI

#: Seconds ``fail-timeout`` holds a request; the rig's proxy gives up after PROXY_TIMEOUT_S.
HOLD_S = 5.0
PROXY_TIMEOUT_S = 1.0


@dataclass
class Seen:
    """One request the upstream got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Upstream:
    """OpenAI's API on ``/v1/...`` and Anthropic's on ``/v1/messages``, on a real port."""

    def __init__(self) -> None:
        self.openai = FakeOpenAI()
        self.anthropic = FakeAnthropic()
        self.seen: list[Seen] = []
        #: The exact bytes of every body sent (a stream's whole), in order.
        self.sent: list[bytes] = []
        rig = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rig.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path.rstrip("/").endswith("/models"):
                    return self._send(200, b'{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}',
                                      {"content-type": "application/json"})  # fmt: skip
                fake = rig.anthropic if self.path.startswith("/v1/messages") else rig.openai
                request = httpx2.Request(self.command, f"http://upstream{self.path}", content=body,
                                         headers={"content-type": "application/json"})  # fmt: skip
                try:
                    response = fake(request)
                except httpx2.TimeoutException:
                    time.sleep(HOLD_S)
                    self.close_connection = True
                    return None
                except httpx2.TransportError:
                    self.close_connection = True
                    return None
                headers = {
                    k: v
                    for k, v in response.headers.items()
                    if k.lower() not in {"content-length", "transfer-encoding"}
                }
                if headers.get("content-type") != "text/event-stream":
                    return self._send(response.status_code, response.read(), headers)
                drip = float(self.headers.get("x-fake-drip") or 0)
                self.send_response(response.status_code)
                for key, value in {**headers, "transfer-encoding": "chunked"}.items():
                    self.send_header(key, value)
                self.end_headers()
                whole: list[bytes] = []
                try:
                    whole_body = response.content  # a whole body: known before it is sent, kept first
                except httpx2.ResponseNotRead:
                    whole_body = None  # a generator (break-stream)
                if whole_body is not None:
                    rig.sent.append(whole_body)  # so a client that has the last bytes finds it
                try:
                    for piece in [whole_body] if whole_body is not None else response.iter_raw():
                        for event in _events(piece):
                            if drip:
                                time.sleep(drip)
                            whole.append(event)
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                            self.wfile.flush()
                except httpx2.TransportError:  # break-stream: the connection goes, mid-stream
                    rig.sent.append(b"".join(whole))
                    self.close_connection = True
                    return None
                self.wfile.write(b"0\r\n\r\n")
                return None

            def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                rig.sent.append(payload)
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def providers(self) -> dict[str, Provider]:
        """The built-in providers pointed here, and a named one (``/p/fake/v1/...``) that speaks OpenAI's API."""
        return {
            "openai": Provider("openai", f"{self.url}/v1"),
            "anthropic": Provider("anthropic", self.url, api="anthropic"),
            "fake": Provider("fake", f"{self.url}/v1"),
        }

    def last(self) -> Seen:
        return self.seen[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _events(piece: bytes) -> Iterator[bytes]:
    """The SSE events of one piece the fakes yield (each piece is whole events)."""
    for part in piece.split(b"\n\n"):
        if part:
            yield part + b"\n\n"


@dataclass
class ProxyRig:
    upstream: Upstream
    recorder: Recorder
    background: Background
    url: str
    db_url: str
    logs: list[str] = field(default_factory=list)

    def flush(self) -> None:
        assert self.recorder.flush(15)


def start(upstream: Upstream, db_url: str, spool: Path, *, token: str | None = None) -> ProxyRig:
    recorder = Recorder(db_url, spool_dir=spool)
    server = ProxyServer(recorder, upstream.providers(), token=token, read_timeout_s=PROXY_TIMEOUT_S)
    background = Background(server)
    return ProxyRig(upstream, recorder, background, background.url, db_url)


def stop(rig: ProxyRig) -> None:
    rig.background.stop()
    rig.recorder.shutdown(5)


def body_json(seen: Seen) -> dict[str, Any]:
    value = json.loads(seen.body)
    assert isinstance(value, dict)
    return value


def tables_holding(url: str, needle: str) -> tuple[list[str], list[str]]:
    """Every table of the store, and those in which some row (all its columns, as text) holds ``needle``."""
    engine = sa.create_engine(config.normalize_database_url(url))
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            holding = [t for t in tables if any(needle in " ".join(str(v) for v in row)
                                                for row in conn.execute(sa.text(f'SELECT * FROM "{t}"')))]  # fmt: skip
    finally:
        engine.dispose()
    return tables, holding
