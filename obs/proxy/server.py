"""The logging proxy: an aiohttp server that relays each request to its provider through one pooled aiohttp
client, and records the calls of the model endpoints as it goes.

The app changes only its base URL. What it sends goes on as it came, its ``Authorization`` / ``x-api-key``
included (never stored, never logged), without obs's own ``obs-*`` headers and the trace context. What the
provider answers comes back unchanged: a stream event by event as it arrives, an error with its status and
body. Recording is fail-open: a recording that fails (a bug, a full queue) is logged and the request is still
answered; the recorder's spool covers a database that is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from obs import clock, config
from obs.capture.events import CallEvent
from obs.proxy import calls, routes
from obs.proxy.calls import StreamWatch, UpstreamError
from obs.recorder.queue import Recorder
from obs.replay.providers import Provider, ProviderError

log = logging.getLogger("obs.proxy")
#: Encodings the recorder can read a body in; a recorded request asks the upstream for these only.
_READABLE = ("gzip", "deflate", "identity")
#: Seconds between two warnings that recording failed (each failure is counted).
_WARN_EVERY_S = 60.0
#: The collector's thresholds in the proxy's own process (``settle_gc``).
_GC_THRESHOLD = (20_000, 20, 20)


class ProxyServer:
    """One proxy: the providers it relays to, the recorder it records into, the token it requires (or None)."""

    def __init__(self, recorder: Recorder, providers: Mapping[str, Provider], *, token: str | None = None,
                 read_timeout_s: float = config.PROXY_READ_TIMEOUT_S) -> None:  # fmt: skip
        self.recorder = recorder
        self.providers = dict(providers)
        self._token = token.encode() if token else None
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=config.PROXY_CONNECT_TIMEOUT_S, sock_read=read_timeout_s
        )
        self._session: aiohttp.ClientSession | None = None
        self.recording_failures = 0
        self._warned = 0.0

    def web_server(self) -> web.Server:
        """aiohttp's low-level server: every request goes to ``handle`` (no application, router or middlewares)."""
        loop = asyncio.get_running_loop()

        def request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            return web.BaseRequest(message, payload, protocol, writer, task, loop,
                                   client_max_size=config.PROXY_MAX_BODY_BYTES)  # fmt: skip

        return web.Server(self.handle, request_factory=request, access_log=None, tcp_keepalive=True)

    async def open(self) -> None:
        """The pooled client to the upstreams (on the serving loop)."""
        connector = aiohttp.TCPConnector(limit=config.PROXY_MAX_CONNECTIONS, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )  # fmt: skip

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # --- one request ---------------------------------------------------------------------------------------

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if self._token is not None and not hmac.compare_digest(
            request.headers.get(config.PROXY_TOKEN_HEADER, "").encode(), self._token
        ):
            return _error(401, f"missing or wrong {config.PROXY_TOKEN_HEADER} header (the proxy's token, "
                          f"${config.ENV_PROXY_TOKEN})", "obs_proxy_token")  # fmt: skip
        try:
            route = routes.route(request.path, self.providers)
        except (routes.NoRoute, ProviderError) as exc:
            return _error(404, str(exc), "not_found_error")
        headers = CIMultiDict(routes.upstream_headers(request.headers.items()))
        event: CallEvent | None = None
        hide_usage = False
        data: Any = None
        if route.kind is not None and request.method == "POST":
            data = await request.read()  # over the limit: 413 (aiohttp)
            event, data, hide_usage = self._start(route, request, data, headers)
        elif request.body_exists:
            data = request.content  # relayed as it arrives (uploads), with the length the client gave
            if request.content_length is not None:
                headers["Content-Length"] = str(request.content_length)
        url = URL(route.url + (f"?{request.query_string}" if request.query_string else ""), encoded=True)
        assert self._session is not None
        try:
            upstream = await self._session.request(request.method, url, headers=headers, data=data,
                                                   allow_redirects=False)  # fmt: skip
        except (TimeoutError, aiohttp.ClientError) as exc:
            return self._unanswered(event, route, exc)
        try:
            if event is None:
                return await _pipe(request, upstream)
            if upstream.status < 400 and upstream.content_type == "text/event-stream":
                return await self._stream(request, upstream, event, hide_usage)
            try:
                body = await upstream.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                return self._unanswered(event, route, exc)
            self._finish(event, body=_decoded(body, upstream.headers.get("Content-Encoding")), status=upstream.status)
            return web.Response(status=upstream.status, reason=upstream.reason, body=body, headers=_headers(upstream))
        finally:
            upstream.release()

    def _start(self, route: routes.Route, request: web.BaseRequest, body: bytes,
               headers: CIMultiDict[str]) -> tuple[CallEvent | None, bytes, bool]:  # fmt: skip
        """The event of a recorded call, the body to send (asking for the usage of a chat stream), and whether the
        usage event must be held back from the client (it did not ask for it)."""
        try:
            assert route.kind is not None
            context = routes.call_context({k.lower(): v for k, v in request.headers.items()})
            event = calls.new_event(route.kind, route.provider.name, context, body)
            accepted = [e.strip() for e in headers.get("Accept-Encoding", "").split(",")]
            if any(e.split(";")[0].strip() not in _READABLE for e in accepted if e):  # a body the writer can read
                headers["Accept-Encoding"] = ", ".join(e for e in accepted if e.split(";")[0].strip() in _READABLE)
            if route.kind == "chat" and config.REQUEST_STREAM_USAGE:
                changed = calls.with_stream_usage(body)
                if changed is not None:
                    headers["Accept-Encoding"] = "identity"  # the events are read to hold the usage one back
                    return event, changed, True
            return event, body, False
        except Exception as exc:
            self._failed(exc)
            return None, body, False

    async def _stream(self, request: web.BaseRequest, upstream: aiohttp.ClientResponse, event: CallEvent,
                      hide_usage: bool) -> web.StreamResponse:  # fmt: skip
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=_headers(upstream))
        watch: StreamWatch | None = StreamWatch(hide_usage=hide_usage)
        abandoned, error = False, None
        await response.prepare(request)
        try:
            async for piece in upstream.content.iter_any():
                out = piece
                if watch is not None:
                    try:
                        out = watch.relay(piece)
                    except Exception as exc:  # fail-open: the rest of the stream is relayed, not recorded
                        self._failed(exc)
                        watch = None
                if out:
                    await response.write(out)
            if watch is not None and watch.rest():
                await response.write(watch.rest())
            if watch is not None:  # recorded before the client sees the end, so a flush after it finds the call
                self._finish(event, watch=watch)
                watch = None
            await response.write_eof()
        except ConnectionError:  # the client went away: recorded with what it got
            abandoned = True
        except asyncio.CancelledError:
            abandoned = True
            raise
        except (TimeoutError, aiohttp.ClientError) as exc:  # the upstream broke off: the client's stream ends
            error = UpstreamError(f"the upstream stream broke off: {_reason(exc)}", _error_type(exc))
            if request.transport is not None:
                request.transport.close()
        finally:
            if watch is not None:
                self._finish(event, watch=watch, error=error, abandoned=abandoned)
        return response

    def _unanswered(self, event: CallEvent | None, route: routes.Route, exc: BaseException) -> web.Response:
        """The upstream did not answer: 504 after the timeout, 502 when it cannot be reached (recorded)."""
        timeout = isinstance(exc, TimeoutError)
        where = URL(route.url).origin()
        message = (f"obs proxy: {route.provider.name} ({where}) did not answer in time (connect "
                   f"{self._timeout.sock_connect:g} s, read {self._timeout.sock_read:g} s)" if timeout else
                   f"obs proxy: cannot reach {route.provider.name} ({where}): {_reason(exc)}")  # fmt: skip
        self._finish(event, error=UpstreamError(message, _error_type(exc), 504 if timeout else 502))
        return _error(504 if timeout else 502, message, "obs_proxy_upstream")

    def _finish(self, event: CallEvent | None, *, body: bytes | None = None, status: int = 200,
                watch: StreamWatch | None = None, error: BaseException | None = None,
                abandoned: bool = False) -> None:  # fmt: skip
        """Hand a call's event to the recorder (never raises: recording is fail-open)."""
        if event is None:
            return
        try:
            event.end_ns = clock.perf_ns()
            if watch is not None:
                event.stream_body = watch.body()
                event.first_token_ns = watch.first_token_ns
            elif body is not None:
                event.response_body = body
            if error is None and status >= 400:
                error = calls.status_error(status, body or b"")
            event.error = error
            event.stream_abandoned = abandoned
            self.recorder.enqueue(event)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.recording_failures += 1
        now = time.monotonic()
        if now - self._warned > _WARN_EVERY_S:
            self._warned = now
            log.warning("obs proxy: a call could not be recorded (%s: %s); the request was relayed anyway "
                        "(%d such calls so far)", type(exc).__name__, exc, self.recording_failures)  # fmt: skip


async def _pipe(request: web.BaseRequest, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
    """Relay an answer that is not recorded, as it arrives."""
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=_headers(upstream))
    if upstream.content_length is not None:
        response.content_length = upstream.content_length
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        async for piece in upstream.content.iter_any():
            await response.write(piece)
        await response.write_eof()
    return response


def _headers(upstream: aiohttp.ClientResponse) -> CIMultiDict[str]:
    return CIMultiDict(routes.downstream_headers(upstream.headers.items()))


def _error(status: int, message: str, kind: str) -> web.Response:
    """An error of the proxy's own, in a shape both SDKs read (``error.message``)."""
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status)


def _decoded(body: bytes, encoding: str | None) -> bytes | None:
    """A response body as the writer reads it (gzip and deflate undone); None when it cannot be."""
    if not encoding or encoding.strip().lower() == "identity":
        return body
    kind = encoding.strip().lower()
    try:
        if kind == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if kind == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return None
    return None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _error_type(exc: BaseException) -> str:
    return "APITimeoutError" if isinstance(exc, TimeoutError) else "APIConnectionError"


# --- running it ------------------------------------------------------------------------------------------------


def event_loop_policy() -> None:
    """uvloop's event loop when it is installed (the ``proxy`` extra brings it): about twice as fast here."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def serve(server: ProxyServer, host: str, port: int, stop: asyncio.Event,
                started: Callable[[], None] | None = None, *, own_process: bool = False) -> None:  # fmt: skip
    """Serve until ``stop`` is set (``started`` is called once it listens), then stop taking requests and finish
    those under way. ``own_process``: the process serves nothing else (``obs proxy``), see ``settle_gc``."""
    await server.open()
    runner = web.ServerRunner(server.web_server(), handle_signals=False, shutdown_timeout=config.PROXY_SHUTDOWN_S)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port, reuse_address=True).start()
        if own_process:
            settle_gc()
        if started is not None:
            started()
        await stop.wait()
    finally:
        await runner.cleanup()
        await server.close()


def settle_gc() -> None:
    """In a process that only serves the proxy: what start-up made (~270,000 objects, mostly the SDK types importing
    obs brings) leaves the collector's generations for good, so that no full collection walks it again (each took
    ~160 ms, stalling every call under way), and young collections are rarer (a relayed call allocates a few
    hundred short-lived objects and next to no cycles). bench.proxy: +26 % calls/s, p99 -30 %."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLD)


class Background:
    """A proxy served from a thread of this process (tests and benchmarks): ``url``, then ``stop()``."""

    def __init__(self, server: ProxyServer, host: str = "127.0.0.1", port: int = 0) -> None:
        if port == 0:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._stop = asyncio.Event()
            self._loop.run_until_complete(serve(server, host, port, self._stop, started.set))

        self._thread = threading.Thread(target=run, name="obs-proxy", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"the proxy did not start on {self.url}")

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
