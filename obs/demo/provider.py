"""The demo provider: an OpenAI- and Anthropic-compatible HTTP server on loopback, no key and no internet.

It serves what ``obs.demo.replies`` decides (the answer, its usage and its latency) and spends that latency on
a clock: a virtual one is advanced, a real one is waited. During a slow spell (an incident the demo plants in the
past) every answer takes ``SLOW_SPELL_FACTOR`` times as long. Endpoints: ``POST /v1/chat/completions``
(streaming, tool calls), ``POST /v1/responses``, ``POST /v1/messages`` (Anthropic's Messages API: streaming,
tool use, prompt cache reads and writes; its planted 500s are 529 "overloaded"), ``GET /v1/models``.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from obs.clock import Clock, VirtualClock
from obs.demo.replies import MODELS, Plan, plan
from obs.demo.wire import (
    CREATED,
    chunks,
    completion,
    error_body,
    message,
    message_error_body,
    message_events,
    response,
)

#: The routes answered, by the end of their path.
_ROUTES = ("/chat/completions", "/responses", "/messages")

#: How much slower every answer is during a slow spell. Spells are moments in time, not properties of a request:
#: slowness tied to a request's content would repeat with every ask of it and make a p95 flap.
SLOW_SPELL_FACTOR = 6.0


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a closed stream, the end of the demo) is not an error worth a traceback."""


class DemoProvider:
    """The server. ``clock``: a VirtualClock is advanced instead of sleeping (backfilling the past fast);
    otherwise latency is really waited, multiplied by ``speed`` (1.0 = realistic). ``slow_spells``: periods
    (on ``clock``) in which every answer is ``SLOW_SPELL_FACTOR`` times slower."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        speed: float = 1.0,
        port: int = 0,
        slow_spells: Sequence[tuple[datetime, datetime]] = (),
    ) -> None:
        self.clock = clock
        self.speed = speed
        self.slow_spells = tuple(slow_spells)
        self.requests = 0  # POST requests answered (the demo counts its calls with it)
        self._count_lock = threading.Lock()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small SSE writes must not wait for delayed ACKs (40 ms each)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "obs-demo"} for m in MODELS]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path} (obs demo provider)"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                path = self.path.rstrip("/")
                route = next((r for r in _ROUTES if path.endswith(r)), None)
                if route is None:
                    self._json(404, {"error": {"message": f"no route {self.path} (obs demo provider)"}})
                    return
                p = provider.slowed(plan(body))
                with provider._count_lock:
                    provider.requests += 1
                if p.error_status and route == "/messages":
                    provider.wait(min(p.ttft_ms, 400))
                    status = 529 if p.error_status == 500 else p.error_status
                    self._json(status, message_error_body(status))
                elif p.error_status:
                    provider.wait(min(p.ttft_ms, 400))
                    self._json(p.error_status, error_body(p.error_status))
                elif route == "/responses":
                    provider.wait(p.total_ms)
                    self._json(200, response(body, p))
                elif route == "/messages" and body.get("stream"):
                    self._stream(message_events(body, p), p, named=True)
                elif route == "/messages":
                    provider.wait(p.total_ms)
                    self._json(200, message(body, p))
                elif body.get("stream"):
                    self._stream(chunks(body, p), p)
                else:
                    provider.wait(p.total_ms)
                    self._json(200, completion(body, p))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("x-provider", "obs-demo")
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, events: list[dict[str, Any]], p: Plan, *, named: bool = False) -> None:
                """Server-sent events; ``named``: each with its type as the event name and no ``[DONE]`` (the
                Messages API's way)."""
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.send_header("x-provider", "obs-demo")
                self.end_headers()
                provider.wait(p.ttft_ms)
                per_event = (p.total_ms - p.ttft_ms) / max(1, len(events) - 1)
                for i, event in enumerate(events):
                    if i > 0:
                        provider.wait(per_event)
                    name = f"event: {event['type']}\n" if named else ""
                    self._chunk(f"{name}data: {json.dumps(event)}\n\n".encode())
                if not named:
                    self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="obs-demo-provider", daemon=True)

    def slowed(self, p: Plan) -> Plan:
        """``p`` as answered now: slower during a slow spell."""
        now = self.clock.now() if self.clock else None
        if now is None or not any(start <= now < end for start, end in self.slow_spells):
            return p
        return replace(p, ttft_ms=p.ttft_ms * SLOW_SPELL_FACTOR, total_ms=p.total_ms * SLOW_SPELL_FACTOR)

    def wait(self, ms: float) -> None:
        """Spend ``ms`` of model time: advance the virtual clock, or really sleep."""
        if isinstance(self.clock, VirtualClock):
            self.clock.advance(ms)
            time.sleep(0.0005)  # let the client read what was sent before the clock moves on
        elif self.speed > 0:
            time.sleep(ms * self.speed / 1000)

    def start(self) -> DemoProvider:
        """Serve in a daemon thread; returns ``self``."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoProvider:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()
