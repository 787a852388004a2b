"""The two OTLP transports of ``obs collector``: HTTP (the standard library's threading server: ``POST /v1/traces``)
and gRPC (grpcio: ``opentelemetry.proto.collector.trace.v1.TraceService/Export``), both over one ``Receiver``."""

from __future__ import annotations

import http.server
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from obs.collector.receiver import JSON, BadRequest, NotStored, Receiver, TooLarge

TRACES_PATH = "/v1/traces"
#: What the collector says to an exporter of something it does not store.
_NO_ROUTE = {
    "/v1/logs": "obs stores traces only, not logs: GenAI instrumentations put a call's content on its span with "
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only (or span_and_event); "
    "or send logs elsewhere (OTEL_LOGS_EXPORTER=none)",
    "/v1/metrics": "obs stores traces only, not metrics: OTEL_METRICS_EXPORTER=none, or send them elsewhere",
}
GRPC_WORKERS = 8


class _HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def http_server(receiver: Receiver, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """OTLP/HTTP on ``host:port`` (not yet serving: call ``serve_forever``)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path != TRACES_PATH:
                default = f"no route {self.path}: OTLP/HTTP traces go to POST {TRACES_PATH}"
                self._error(404, _NO_ROUTE.get(path, default), drain=True)
                return
            if not receiver.authorized(self.headers.get("authorization")):
                self._error(401, "missing or wrong bearer token (Authorization: Bearer $OBS_COLLECTOR_TOKEN)",
                            drain=True)  # fmt: skip
                return
            body = self._body()
            if body is None:
                return
            as_json = (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower() == JSON
            try:
                request = receiver.decode(body, self.headers.get("content-type"), self.headers.get("content-encoding"))
                exported = receiver.export(request)
            except BadRequest as exc:
                self._error(400, str(exc))
            except TooLarge as exc:
                self._error(413, str(exc))
            except NotStored as exc:
                self._error(503, str(exc), retry=True)
            else:
                self._send(200, *exported.encoded(as_json=as_json))

        def _body(self) -> bytes | None:
            """The request body (a Content-Length, or chunks, as Node's exporters send it); None once an error
            was answered."""
            length = self.headers.get("content-length")
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                return self._chunks()
            if length is None or not length.isdigit():
                self._error(411, "a Content-Length (or chunked transfer encoding) is required")
                return None
            if int(length) > receiver.max_body:
                self._error(413, f"the body is {int(length):,} bytes; the limit is {receiver.max_body:,}")
                return None
            return self.rfile.read(int(length))

        def _chunks(self) -> bytes | None:
            parts: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    chunk = int(line, 16)
                except ValueError:
                    self._error(400, f"a malformed chunk size: {line[:20]!r}")
                    return None
                size += chunk
                if size > receiver.max_body:
                    self._error(413, f"the body is over the limit of {receiver.max_body:,} bytes")
                    return None
                if chunk == 0:
                    while self.rfile.readline(1024).strip():  # trailers, up to the empty line
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(chunk))
                self.rfile.readline(8)  # the CRLF after the chunk

        def do_GET(self) -> None:
            self._error(405, f"OTLP/HTTP traces are sent with POST {TRACES_PATH}")

        def _error(self, status: int, message: str, *, retry: bool = False, drain: bool = False) -> None:
            # OTLP/HTTP errors are a google.rpc.Status; its message is what a person reads in the exporter's log.
            if drain and (self.headers.get("content-length") or "0").isdigit():
                length = int(self.headers.get("content-length") or 0)
                if length <= receiver.max_body:
                    self.rfile.read(length)
            body = json.dumps({"code": _grpc_code(status), "message": message}).encode()
            self._send(status, body, JSON, retry=retry, close=status in {400, 411, 413})

        def _send(self, status: int, body: bytes, content_type: str, *, retry: bool = False,
                  close: bool = False) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            if retry:
                self.send_header("retry-after", "5")
            if close:
                self.send_header("connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _HttpServer((host, port), Handler)


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        metadata = dict(context.invocation_metadata())
        if not self._receiver.authorized(metadata.get("authorization")):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token (authorization metadata)")
        try:
            return self._receiver.export(request).response
        except NotStored as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except BadRequest as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))


def grpc_server(receiver: Receiver, host: str, port: int) -> grpc.Server:
    """OTLP/gRPC on ``host:port`` (started by the caller); messages over the body limit are refused by grpcio."""
    server = grpc.server(
        ThreadPoolExecutor(GRPC_WORKERS, thread_name_prefix="obs-otlp-grpc"),
        options=[("grpc.max_receive_message_length", receiver.max_body)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(receiver), server)  # type: ignore[no-untyped-call]
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise OSError(f"cannot listen on {host}:{port} for OTLP/gRPC")
    return server


def _grpc_code(status: int) -> int:
    return {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 503: 14}.get(status, 2)


def serve(receiver: Receiver, host: str, http_port: int, grpc_port: int | None) -> tuple[Any, Any, threading.Thread]:
    """Both transports, serving in background threads; returns (http server, grpc server or None, http thread)."""
    web = http_server(receiver, host, http_port)
    rpc = grpc_server(receiver, host, grpc_port) if grpc_port is not None else None
    if rpc is not None:
        rpc.start()
    thread = threading.Thread(target=web.serve_forever, name="obs-otlp-http", daemon=True)
    thread.start()
    return web, rpc, thread
