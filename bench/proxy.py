"""Proxy overhead: what `obs proxy` adds to a call on loopback, against a local upstream that answers at once
(a benchmark).

Three kinds of process, as in real use: the upstream (a fake OpenAI API on a raw asyncio protocol, uvloop when
installed: HTTP/1.1 keep-alive, a fixed ~1 KB chat.completion, or with "stream": true a fixed chunked SSE stream,
the usage chunk only when stream_options.include_usage asks); the proxy (ProxyServer served as `obs proxy` serves
it, uvloop, in its own process, recording into a fresh SQLite file or PostgreSQL); the clients (latency: this
process; throughput: a load generator process). Direct and proxied calls use the same client code. Each round:
  latency     -- one keep-alive client, sequential non-streamed chat calls, in blocks of 200 alternating direct
                 and proxied; p50 and p99 of each, and what the proxy adds (proxied - direct);
  ttft        -- the same for streamed calls: time to the bytes of the first content event, and to the stream's
                 end (the client does not ask for the usage chunk: the proxy asks for it and holds it back);
  throughput  -- 64 concurrent keep-alive clients in their own process, N non-streamed calls direct and N
                 proxied: calls/s until answered and until recorded (the proxy's recorder.flush() returned);
                 the store must then hold exactly one llm_calls row per proxied call, tokens included.
Every answer is checked byte for byte against what the upstream sent. The goals (the issue): under 1 ms added at
p50; at least 1,000 calls/s through the proxy at 64 clients, every call recorded.

    .venv/bin/python -m bench.proxy [--requests 2000] [--load 10000] [--rounds 3] [--postgres URL]
    (--requests: sequential calls a path, kind and round; --load: calls a throughput phase;
     URL: $OBS_TEST_POSTGRES_URL -- a throwaway database: its public schema is dropped)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

BLOCK = 200  # sequential calls in a row on one path before switching to the other
WARMUP = 100  # calls on each path before a round's latency is measured
CLIENTS = 64
HOST = "127.0.0.1"
MODEL = "gpt-4o-mini-2024-07-18"
CALL_ID = "chatcmpl-BnchMrk7Qz1xYw2Vu3Ts4Rp5On6M"
FINGERPRINT = "fp_34a54ae93c"
CREATED = 1750000000
USAGE = {"prompt_tokens": 412, "completion_tokens": 118, "total_tokens": 530,
         "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                       "rejected_prediction_tokens": 0}}  # fmt: skip
ANSWER = ("Ticket 4821 is a billing question: the customer was charged twice for the March invoice after updating "
          "the card on file. Route it to Billing, priority normal. Suggested reply: apologise for the trouble, "
          "confirm that the second charge is a duplicate, and say that it has been refunded and will be back on "
          "the card within five to seven business days. No account changes are needed.")  # fmt: skip
#: The first content delta of the stream (what TTFT waits for); the role chunk before it has empty content.
FIRST_PIECE = "Ticket 4821"


# --- the upstream: a fake OpenAI chat API that answers at once -------------------------------------------------

_HEADERS = [("content-type", "application/json"), ("access-control-expose-headers", "X-Request-ID"),
            ("openai-organization", "user-bench"), ("openai-processing-ms", "412"), ("openai-project", "proj_bench"),
            ("openai-version", "2020-10-01"), ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-limit-tokens", "10000000"), ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-remaining-tokens", "9999500"), ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-reset-tokens", "3ms"), ("x-request-id", "req_6b1f7c0e2d9a4c8b8f3e5a7d9c1b2e4f"),
            ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
            ("x-content-type-options", "nosniff"), ("server", "cloudflare"),
            ("cf-ray", "94f1c2d3e4b5a697-FRA"), ("alt-svc", 'h3=":443"; ma=86400')]  # fmt: skip


def completion() -> bytes:
    """The fixed non-streamed answer (~1 KB, as OpenAI's API sends it: indented)."""
    return orjson.dumps({
        "id": CALL_ID, "object": "chat.completion", "created": CREATED, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": None,
                                             "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE, "service_tier": "default", "system_fingerprint": FINGERPRINT,
    }, option=orjson.OPT_INDENT_2)  # fmt: skip


def stream_events(include_usage: bool) -> list[bytes]:
    """The fixed stream, event by event: the role, ten content deltas, the finish, (the usage,) [DONE]. With
    include_usage every chunk carries "usage": null, as OpenAI's do."""
    words = ANSWER.split(" ")
    cut = [len(FIRST_PIECE.split(" "))] + [len(words) * k // 10 for k in range(2, 10)] + [len(words)]
    pieces, start = [], 0
    for end in cut:
        pieces.append(" ".join(words[start:end]) + ("" if end == len(words) else " "))
        start = end
    assert pieces[0].strip() == FIRST_PIECE and "".join(pieces) == ANSWER

    def chunk(delta: dict[str, Any], finish: str | None = None, choices: bool = True, usage: Any = None) -> bytes:
        value: dict[str, Any] = {"id": CALL_ID, "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
                                 "service_tier": "default", "system_fingerprint": FINGERPRINT,
                                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                              "finish_reason": finish}] if choices else []}  # fmt: skip
        if include_usage:
            value["usage"] = usage
        return b"data: " + orjson.dumps(value) + b"\n\n"

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in pieces]
    events.append(chunk({}, "stop"))
    if include_usage:
        events.append(chunk({}, choices=False, usage=USAGE))
    return [*events, b"data: [DONE]\n\n"]


def _framed(status: str, headers: list[tuple[str, str]], body: bytes | None) -> bytes:
    head = [f"HTTP/1.1 {status}", "date: Mon, 16 Jun 2025 09:00:00 GMT", *(f"{k}: {v}" for k, v in headers)]
    head.append(f"content-length: {len(body)}" if body is not None else "transfer-encoding: chunked")
    head.append("connection: keep-alive")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Answers:
    """Every answer the upstream gives, framed once."""

    def __init__(self) -> None:
        self.json = _framed("200 OK", _HEADERS, completion())
        sse = [("content-type", "text/event-stream; charset=utf-8"), *_HEADERS[1:]]
        self.streams = {}
        for usage in (False, True):
            events = stream_events(usage)
            # first write: the head, the role and the first content delta; the rest on the next loop iteration
            first = _framed("200 OK", sse, None) + _chunk(events[0]) + _chunk(events[1])
            rest = b"".join(_chunk(e) for e in events[2:]) + b"0\r\n\r\n"
            self.streams[usage] = (first, rest)
        self.missing = _framed("404 Not Found", [("content-type", "application/json")],
                               b'{"error":{"message":"no such path","type":"invalid_request_error"}}')  # fmt: skip
        self.bad = _framed("400 Bad Request", [("content-type", "application/json")],
                           b'{"error":{"message":"the bench upstream reads Content-Length bodies only"}}')  # fmt: skip


class _UpstreamProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, requests with Content-Length bodies (a chunked request body is answered 400)."""

    def __init__(self, answers: _Answers, counts: dict[str, int]) -> None:
        self.answers, self.counts = answers, counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.counts["connections"] += 1

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else None])
            elif b"\r\ntransfer-encoding:" in head:
                self.counts["chunked_requests"] += 1
                assert self.transport is not None
                self.transport.write(self.answers.bad)
                self.transport.close()
                return
            if len(buffer) < end + 4 + length:
                break
            body, buffer = buffer[end + 4 : end + 4 + length], buffer[end + 4 + length :]
            self.answer(head[: head.find(b"\r\n")], body)
        self.buffer = buffer

    def answer(self, line: bytes, body: bytes) -> None:
        assert self.transport is not None
        if not line.startswith(b"post /v1/chat/completions "):
            self.counts["not_found"] += 1
            self.transport.write(self.answers.missing)
            return
        request = orjson.loads(body)
        if request.get("stream") is True:
            usage = bool((request.get("stream_options") or {}).get("include_usage"))
            self.counts["streams_with_usage" if usage else "streams"] += 1
            first, rest = self.answers.streams[usage]
            self.transport.write(first)
            asyncio.get_running_loop().call_soon(self._write, rest)
        else:
            self.counts["completions"] += 1
            self.transport.write(self.answers.json)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _uvloop() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _upstream_main(conn: Connection) -> None:
    loop_name = _uvloop()
    counts = {k: 0 for k in ("connections", "completions", "streams", "streams_with_usage", "not_found",
                             "chunked_requests")}  # fmt: skip

    async def run() -> None:
        loop = asyncio.get_running_loop()
        answers = _Answers()
        server = await loop.create_server(lambda: _UpstreamProtocol(answers, counts), HOST, 0, backlog=4096)
        stop = asyncio.Event()
        conn.send(("ready", server.sockets[0].getsockname()[1], loop_name))

        def control() -> None:
            while True:
                command = conn.recv()
                if command == "stats":
                    conn.send((dict(counts), _cpu()))
                elif command == "stop":
                    loop.call_soon_threadsafe(stop.set)
                    return

        threading.Thread(target=control, daemon=True).start()
        await stop.wait()
        server.close()

    asyncio.run(run())


# --- the proxy, as `obs proxy` runs it ---------------------------------------------------------------------------


class _Started(threading.Event):
    """Set once the proxy listens (serve() calls it)."""

    def __call__(self) -> None:
        self.set()


def _proxy_main(conn: Connection, db_url: str, spool: str, upstream: str, port: int) -> None:
    from obs.proxy.server import ProxyServer, event_loop_policy, serve
    from obs.recorder.queue import Recorder
    from obs.replay.providers import Provider
    from obs.store.store import Store

    Store(db_url).close()
    recorder = Recorder(db_url, spool_dir=spool)
    providers = {"openai": Provider("openai", f"{upstream}/v1"),
                 "anthropic": Provider("anthropic", upstream, api="anthropic")}  # fmt: skip
    server = ProxyServer(recorder, providers)
    event_loop_policy()
    started = _Started()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        name = type(loop).__module__.split(".")[0]

        def control() -> None:
            if not started.wait(30):
                conn.send(("failed", "the proxy did not start", ""))
                return
            conn.send(("ready", os.getpid(), name))
            while True:
                command = conn.recv()
                if command == "flush":
                    start = time.perf_counter()
                    done = recorder.flush(600)
                    conn.send((done, time.perf_counter() - start, recorder.stats(), server.recording_failures))
                elif command == "cpu":
                    conn.send(_cpu())
                elif command == "stop":
                    loop.call_soon_threadsafe(stop.set)
                    return

        threading.Thread(target=control, daemon=True).start()
        await serve(server, HOST, port, stop, started, own_process=True)  # as `obs proxy` does

    asyncio.run(run())
    recorder.shutdown(10)


# --- the client: HTTP/1.1 keep-alive, the same code for direct and proxied calls ---------------------------------


class Reply:
    """One response read as it arrives (Content-Length or chunked); ``first_ns`` is when ``marker`` (the first
    content delta) was first in the body. Raises ValueError on framing that is not HTTP/1.1 as it should be."""

    __slots__ = ("_rest", "body", "chunked", "first_ns", "headers", "length", "marker", "status")

    def __init__(self, marker: bytes | None = None) -> None:
        self._rest = b""
        self.status = 0
        self.headers: dict[str, str] | None = None
        self.length = -1
        self.chunked = False
        self.body = bytearray()
        self.marker = marker
        self.first_ns: int | None = None

    def feed(self, data: bytes) -> bool:
        """Take what arrived; True once the response is complete."""
        if not data:
            raise ConnectionError("the connection closed mid-response")
        buf = self._rest + data if self._rest else data
        if self.headers is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._rest = buf
                return False
            lines = buf[:end].decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in headers and key in ("content-length", "transfer-encoding", "content-type"):
                    raise ValueError(f"{key} twice in the response head")
                headers[key] = value.strip()
            self.headers = headers
            self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if self.chunked and "content-length" in headers:
                raise ValueError("both Content-Length and chunked in the response head")
            if not self.chunked:
                if "content-length" not in headers:
                    raise ValueError("neither Content-Length nor chunked in the response head")
                self.length = int(headers["content-length"])
            buf = buf[end + 4 :]
        done = False
        if not self.chunked:
            self.body += buf
            self._rest = b""
            if len(self.body) > self.length:
                raise ValueError("bytes after the response's Content-Length")
            done = len(self.body) == self.length
        else:
            pos = 0
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(buf[pos:eol].split(b";", 1)[0], 16)
                if size == 0:
                    if len(buf) < eol + 4:
                        break
                    if buf[eol + 2 : eol + 4] != b"\r\n" or len(buf) > eol + 4:
                        raise ValueError("trailers or bytes after the last chunk")
                    pos, done = eol + 4, True
                    break
                if len(buf) < eol + 4 + size:
                    break
                if buf[eol + 2 + size : eol + 4 + size] != b"\r\n":
                    raise ValueError("a chunk without its CRLF")
                self.body += buf[eol + 2 : eol + 2 + size]
                pos = eol + 4 + size
            self._rest = buf[pos:]
        if self.marker is not None and self.first_ns is None and self.marker in self.body:
            self.first_ns = time.perf_counter_ns()
        return done


def request(port: int, *, stream: bool) -> bytes:
    """A chat call as the openai SDK sends it (its headers, an API key, two obs attribute headers)."""
    body: dict[str, Any] = {
        "messages": [{"role": "system", "content": "You triage support tickets. Answer with the team to route the "
                      "ticket to, its priority and a suggested reply."},
                     {"role": "user", "content": "Hi, I updated my card last week and now I see two charges for "
                      "the March invoice on my statement. Can you check what happened and refund the extra one? "
                      "My account is under the email on this ticket. Thanks, Dana"}],
        "model": "gpt-4o-mini", "temperature": 0.2,
    }  # fmt: skip
    if stream:
        body["stream"] = True
    payload = orjson.dumps(body)
    head = [
        "POST /v1/chat/completions HTTP/1.1", f"Host: {HOST}:{port}", "Accept-Encoding: gzip, deflate",
        "Connection: keep-alive", "Accept: application/json", "Content-Type: application/json",
        "User-Agent: OpenAI/Python 1.109.1", "X-Stainless-Lang: python", "X-Stainless-Package-Version: 1.109.1",
        "X-Stainless-OS: Linux", "X-Stainless-Arch: x64", "X-Stainless-Runtime: CPython",
        "X-Stainless-Runtime-Version: 3.11.7", "Authorization: Bearer sk-bench-0123456789abcdefghijklmnopqrstuv",
        "X-Stainless-Async: false", "x-stainless-retry-count: 0", "x-stainless-read-timeout: 600",
        "obs-feature: bench", "obs-user-id: u42", f"Content-Length: {len(payload)}",
    ]  # fmt: skip
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class Client:
    """One keep-alive connection, one call at a time (the latency client)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, raw: bytes, marker: bytes | None = None) -> tuple[int, int | None, Reply]:
        """(ns to the end of the answer, ns to the marker or None, the answer)."""
        reply = Reply(marker)
        recv, feed = self.sock.recv, reply.feed
        start = time.perf_counter_ns()
        self.sock.sendall(raw)
        while not feed(recv(262144)):
            pass
        end = time.perf_counter_ns()
        return end - start, None if reply.first_ns is None else reply.first_ns - start, reply

    def close(self) -> None:
        self.sock.close()


class _LoadProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.reply = Reply()
        self.waiter: asyncio.Future[Reply] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            if self.reply.feed(data):
                waiter.set_result(self.reply)
        except Exception as exc:
            waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def call(self, raw: bytes) -> asyncio.Future[Reply]:
        self.reply = Reply()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter


async def _load(port: int, raw: bytes, expected: bytes, n: int, clients: int) -> tuple[float, int, int, int, str]:
    """(seconds, good answers, bad answers, warm-up calls, the first problem) for ``n`` calls from ``clients``
    keep-alive connections, each one call at a time."""
    loop = asyncio.get_running_loop()
    conns = [(await loop.create_connection(_LoadProtocol, HOST, port))[1] for _ in range(clients)]
    good = bad = 0
    problem = ""

    async def one(conn: _LoadProtocol) -> None:
        nonlocal good, bad, problem
        try:
            reply = await conn.call(raw)
        except Exception as exc:  # a framing or connection failure: counted, reported, the connection replaced
            bad += 1
            problem = problem or f"{type(exc).__name__}: {exc}"
            conn.transport.close()
            conns[conns.index(conn)] = conn = (await loop.create_connection(_LoadProtocol, HOST, port))[1]
            return
        if reply.status == 200 and reply.body == expected:
            good += 1
        else:
            bad += 1
            problem = problem or f"HTTP {reply.status}: {bytes(reply.body[:200])!r}"

    for _ in range(2):  # warm-up: two calls on each connection, untimed
        await asyncio.gather(*(one(c) for c in conns))
    warm = 2 * clients
    good = bad = 0
    left = n

    async def worker(i: int) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one(conns[i])

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - start
    for c in conns:
        c.transport.close()
    return elapsed, good, bad, warm, problem


def _loadgen_main(conn: Connection) -> None:
    _uvloop()
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "stop":
            return
        gc.collect()
        conn.send(asyncio.run(_load(*command)))


# --- the processes --------------------------------------------------------------------------------------------


class Child:
    """A process of this benchmark, spoken to over a pipe."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(theirs, *args), daemon=True)
        self.process.start()
        theirs.close()

    def ask(self, command: Any, timeout: float = 900) -> Any:
        self.conn.send(command)
        return self.receive(timeout)

    def receive(self, timeout: float = 120) -> Any:
        if not self.conn.poll(timeout):
            raise RuntimeError(f"no answer from {self.process.name} within {timeout:g} s")
        return self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# --- the measurements -----------------------------------------------------------------------------------------


def _pct(values: list[int], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``, in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


class Check:
    """What was wrong in the answers (nothing, one hopes), and the proxied calls that must be stored."""

    def __init__(self) -> None:
        self.proxied = 0
        self.streams = 0
        self.problems: list[str] = []

    def answer(self, what: str, reply: Reply, expected: bytes) -> None:
        if reply.status != 200 or reply.body != expected:
            if len(self.problems) < 5:
                self.problems.append(f"{what}: HTTP {reply.status}, {len(reply.body)} B, "
                                     f"{bytes(reply.body[:120])!r}")  # fmt: skip
            else:
                self.problems.append("")


def sequential(ports: dict[str, int], n: int, *, stream: bool, check: Check) -> dict[str, dict[str, list[int]]]:
    """``n`` sequential calls a path, in alternating blocks of BLOCK; the ns of each: to the end ("total") and,
    for streams, to the first content event ("first")."""
    marker = orjson.dumps(FIRST_PIECE)[:-1] if stream else None  # '"Ticket 4821' (the JSON string's start)
    direct_body = b"".join(stream_events(False)) if stream else completion()
    # The proxy asks for the usage (the chunks then carry "usage": null) and holds the usage chunk back.
    proxied_body = b"".join(e for e in stream_events(True) if b'"choices":[]' not in e) if stream else completion()
    expected = {"direct": direct_body, "proxied": proxied_body}
    clients = {path: Client(port) for path, port in ports.items()}
    raws = {path: request(port, stream=stream) for path, port in ports.items()}
    times: dict[str, dict[str, list[int]]] = {path: {"total": [], "first": []} for path in ports}
    try:
        for path, client in clients.items():
            for _ in range(WARMUP):
                client.call(raws[path], marker)
            if path == "proxied":
                check.proxied += WARMUP
                check.streams += WARMUP if stream else 0
        gc.collect()
        gc.disable()
        for block in range(max(1, n // BLOCK)):
            order = list(ports) if block % 2 == 0 else list(reversed(ports))
            for path in order:
                call, raw, total, first = clients[path].call, raws[path], times[path]["total"], times[path]["first"]
                for _ in range(BLOCK):
                    ns, first_ns, reply = call(raw, marker)
                    total.append(ns)
                    if stream:
                        first.append(first_ns if first_ns is not None else ns)
                    check.answer(f"{path} {'stream' if stream else 'call'}", reply, expected[path])
                if path == "proxied":
                    check.proxied += BLOCK
                    check.streams += BLOCK if stream else 0
    finally:
        gc.enable()
        for client in clients.values():
            client.close()
    return times


def count_rows(url: str) -> list[tuple[Any, ...]]:
    """The stored calls, grouped by what must be true of each."""
    import sqlalchemy as sa

    from obs import config

    engine = sa.create_engine(config.normalize_database_url(url))
    try:
        with engine.connect() as c:
            return list(c.execute(sa.text(
                "SELECT stream, status, prompt_tokens, completion_tokens, latency_ms_first_token IS NOT NULL, "
                "count(*) FROM llm_calls GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
            )))  # fmt: skip
    finally:
        engine.dispose()


Round = dict[str, float]


def one_round(i: int, ports: dict[str, int], proxy: Child, upstream: Child, loadgen: Child, args: argparse.Namespace,
              check: Check) -> Round:  # fmt: skip
    out: Round = {}
    for kind, stream in (("call", False), ("stream", True)):
        times = sequential(ports, args.requests, stream=stream, check=check)
        for path in ports:
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                out[f"{kind} {path} {name}"] = _pct(times[path]["total"], q)
                if stream:
                    out[f"ttft {path} {name}"] = _pct(times[path]["first"], q)
    # throughput: direct and proxied, in alternating order from round to round
    for path in list(ports) if i % 2 == 0 else list(reversed(ports)):
        cpu_proxy, cpu_upstream = proxy.ask("cpu"), upstream.ask("stats")[1]
        elapsed, good, bad, warm, problem = loadgen.ask((ports[path], request(ports[path], stream=False),
                                                         completion(), args.load, CLIENTS))  # fmt: skip
        out[f"load {path} answered"] = good / elapsed
        out[f"load {path} upstream cpu"] = (upstream.ask("stats")[1] - cpu_upstream) / (good + bad + warm) * 1e3
        if bad:
            check.problems.append(f"throughput {path}: {bad} bad answers of {good + bad}; first: {problem}")
        if path == "proxied":
            check.proxied += good + bad + warm
            done, flushed, stats, failures = proxy.ask("flush")
            out["load proxied recorded"] = good / (elapsed + flushed)
            out["flush s"] = flushed
            # the proxy process's CPU (all its threads: the loop, the recorder's writer) until every call is stored
            out["load proxied proxy cpu"] = (proxy.ask("cpu") - cpu_proxy) / (good + bad + warm) * 1e3
            if not done or failures:
                check.problems.append(f"round {i}: flush {'done' if done else 'timed out'}, {failures} recording "
                                      f"failures, {stats}")  # fmt: skip
    return out


def run_dialect(url: str, spool: Path, upstream: Child, upstream_port: int, loadgen: Child,
                args: argparse.Namespace) -> tuple[list[Round], Check, list[tuple[Any, ...]], str, Any]:  # fmt: skip
    port = _free_port()
    proxy = Child(_proxy_main, url, str(spool), f"http://{HOST}:{upstream_port}", port)
    ready = proxy.receive(120)
    if ready[0] != "ready":
        raise RuntimeError(f"the proxy did not start: {ready}")
    ports = {"direct": upstream_port, "proxied": port}
    check = Check()
    rounds = []
    try:
        for i in range(args.rounds):
            rounds.append(one_round(i, ports, proxy, upstream, loadgen, args, check))
            rows = count_rows(url)
            stored = sum(r[-1] for r in rows)
            if stored != check.proxied:
                check.problems.append(f"round {i}: {check.proxied} proxied calls, {stored} llm_calls rows")
        done, _, stats, failures = proxy.ask("flush")
    finally:
        proxy.stop()
    return rounds, check, count_rows(url), ready[2], (done, stats, failures)


def spread(values: list[float], fmt: str = "{:+.3f}") -> str:
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}..{fmt.format(max(values))}]"


def report(dialect: str, rounds: list[Round], check: Check, rows: list[tuple[Any, ...]],
           final: tuple[bool, Any, int]) -> dict[str, float]:  # fmt: skip
    def col(key: str) -> list[float]:
        return [r[key] for r in rounds]

    def med(key: str) -> float:
        return statistics.median(col(key))

    def diff(a: str, b: str) -> list[float]:
        return [r[a] - r[b] for r in rounds]

    print(f"{dialect}")
    print(f"  {'ms (median of rounds)':32} {'direct':>8} {'proxied':>8}   added by the proxy: median [range]")
    for label, kind in (("non-streamed call", "call"), ("stream, first content event", "ttft"),
                        ("stream, to its end", "stream")):  # fmt: skip
        for q in ("p50", "p99"):
            d, p = f"{kind} direct {q}", f"{kind} proxied {q}"
            print(f"  {label + ' ' + q:32} {med(d):8.3f} {med(p):8.3f}   {spread(diff(p, d))} ms")
    ratios = [r["load proxied answered"] / r["load direct answered"] for r in rounds]
    recorded = col("load proxied recorded")
    print(f"  throughput, {CLIENTS} clients, calls/s  {med('load direct answered'):8,.0f} "
          f"{med('load proxied answered'):8,.0f}   proxied/direct {statistics.median(ratios):.1%} "
          f"[{min(ratios):.0%}..{max(ratios):.0%}]")  # fmt: skip
    print(f"  ... until stored (flush returned)        {'':8} {statistics.median(recorded):8,.0f}   "
          f"[{min(recorded):,.0f}..{max(recorded):,.0f}]; the flush after the last answer: "
          f"{spread(col('flush s'), '{:.2f}')} s")  # fmt: skip
    print(f"  CPU ms a call at {CLIENTS} clients: the proxy process (its threads, until stored) "
          f"{med('load proxied proxy cpu'):.3f}; the upstream {med('load proxied upstream cpu'):.3f} "
          f"({med('load direct upstream cpu'):.3f} direct)")  # fmt: skip
    stored = sum(r[-1] for r in rows)
    tokens = USAGE["prompt_tokens"], USAGE["completion_tokens"]
    expected = {
        (False, "ok", *tokens, False): check.proxied - check.streams,
        (True, "ok", *tokens, True): check.streams,
    }
    got = {tuple(bool(v) if j in (0, 4) else v for j, v in enumerate(r[:-1])): r[-1] for r in rows}
    done, stats, failures = final
    same = got == {k: v for k, v in expected.items() if v} and done
    print(f"  every call recorded: {check.proxied:,} proxied calls ({check.streams:,} streams), {stored:,} llm_calls "
          f"rows, with tokens (and TTFT for streams): {'yes' if same else 'NO'}; the recorder: "
          f"{stats.written:,} written, {stats.spooled} spooled, {stats.dropped} dropped, "
          f"{failures} failures")  # fmt: skip
    if not same:
        print(f"    rows (stream, status, prompt and completion tokens, has TTFT, count): {rows}")
    problems = [p for p in check.problems if p]
    for problem in problems[:10]:
        print(f"  PROBLEM {problem}")
    if len(check.problems) > 10:
        print(f"  ... {len(check.problems) - 10} more problems")
    return {"added p50": statistics.median(diff("call proxied p50", "call direct p50")),
            "ttft p50": statistics.median(diff("ttft proxied p50", "ttft direct p50")),
            "recorded": statistics.median(recorded), "ok": float(same and not check.problems)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="sequential calls a path, kind and round")
    parser.add_argument("--load", type=int, default=10000, help="calls a throughput phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("OBS_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    upstream, loadgen = Child(_upstream_main), Child(_loadgen_main)
    _, upstream_port, loop_name = upstream.receive()
    loadgen.receive()
    summaries: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = [("sqlite", f"sqlite:///{Path(tmp) / 'proxy.db'}")]
            if args.postgres:
                from bench.ingest import fresh_postgres

                pg = args.postgres.replace("postgresql+psycopg://", "postgresql://")
                fresh_postgres(pg)
                targets.append(("postgresql", pg))
            results = []
            for dialect, url in targets:
                results.append((dialect, *run_dialect(url, Path(tmp) / f"spool-{dialect}", upstream, upstream_port,
                                                      loadgen, args)))  # fmt: skip
        counts, _ = upstream.ask("stats")
    finally:
        upstream.stop()
        loadgen.stop()
    print(f"{args.rounds} rounds, back to back; each: {args.requests:,} sequential calls a path (blocks of {BLOCK}, "
          f"direct and proxied alternating), non-streamed then streamed; {args.load:,} calls at {CLIENTS} "
          f"keep-alive clients direct and proxied")  # fmt: skip
    print(f"upstream: own process, {loop_name}, a {len(completion()):,} B chat.completion or a "
          f"{len(stream_events(False))}-event chunked stream, at once; proxy: own process, "
          f"{results[0][4]}; {os.cpu_count()} cores")  # fmt: skip
    for dialect, rounds, check, rows, _, final in results:
        summaries[dialect] = report(dialect, rounds, check, rows, final)
    print(f"upstream saw: {counts}")
    for dialect, s in summaries.items():
        latency = "met" if s["added p50"] < 1.0 else "MISSED"
        rate = "met" if s["recorded"] >= 1000 and s["ok"] else "MISSED"
        print(f"goals ({dialect}): under 1 ms added at p50: {latency} ({s['added p50']:+.3f} ms; TTFT "
              f"{s['ttft p50']:+.3f} ms); >= 1,000 calls/s at {CLIENTS} clients, every call recorded: {rate} "
              f"({s['recorded']:,.0f} calls/s{'' if s['ok'] else ', NOT every call recorded correctly'})")  # fmt: skip


if __name__ == "__main__":
    main()
