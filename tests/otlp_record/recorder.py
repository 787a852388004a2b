"""A fixture recorder: a local OTLP receiver that keeps every export request exactly as it arrived.

OTLP/HTTP ``POST /v1/traces`` and ``/v1/logs`` (protobuf or JSON, gzip or not) and, optionally, OTLP/gRPC
``TraceService/Export`` and ``LogsService/Export``. It answers every request with success and does nothing else:
the bodies are saved by ``save_case`` as ``<case>.pb`` (or ``<case>.otlp.json`` for OTLP/JSON) beside a readable
``<case>.json``, and ``manifest.json`` keeps each request's path, content-type and content-encoding.

Run alone (``python recorder.py --port 4318 --out DIR``) it saves every request as it comes, numbered.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

MESSAGES = {"/v1/traces": ExportTraceServiceRequest, "/v1/logs": ExportLogsServiceRequest}
RESPONSES = {"/v1/traces": ExportTraceServiceResponse, "/v1/logs": ExportLogsServiceResponse}


@dataclass(frozen=True)
class Received:
    transport: str  # "http" or "grpc"
    path: str  # /v1/traces or /v1/logs
    content_type: str
    content_encoding: str  # as sent; body below is already decompressed
    body: bytes
    transfer_encoding: str = ""  # "chunked" from Node's exporters (no content-length)

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip() == "application/json"

    def readable(self) -> str:
        """Indented JSON: OTLP/JSON bodies as sent (hex ids), protobuf via MessageToJson (base64 ids)."""
        if self.is_json:  # not through json_format.Parse: it would read OTLP/JSON's hex ids as base64
            return json.dumps(json.loads(self.body), indent=1) + "\n"
        message = MESSAGES[self.path]()
        message.ParseFromString(self.body)
        return json_format.MessageToJson(message, indent=1) + "\n"


def decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


class Recorder:
    """OTLP/HTTP (and optionally gRPC) on 127.0.0.1; ``received`` fills as exporters send."""

    def __init__(self, port: int = 0, grpc: bool = False) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.read_body()
                path = self.path.split("?")[0]
                ctype = self.headers.get("content-type", "")
                encoding = self.headers.get("content-encoding", "")
                if path not in MESSAGES:
                    self.send_error(404)
                    return
                chunked = self.headers.get("transfer-encoding", "")
                recorder.add(Received("http", path, ctype, encoding, decompress(raw, encoding), chunked))
                if ctype.startswith("application/json"):
                    payload, out_type = b"{}", "application/json"
                else:
                    payload, out_type = RESPONSES[path]().SerializeToString(), "application/x-protobuf"
                self.send_response(200)
                self.send_header("content-type", out_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def read_body(self) -> bytes:
                if "chunked" not in self.headers.get("transfer-encoding", "").lower():
                    return self.rfile.read(int(self.headers.get("content-length", 0)))
                chunks = []  # Node's OTLP exporters send chunked bodies, without content-length
                while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()  # the blank line after the last (zero) chunk; no trailers expected
                return b"".join(chunks)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.grpc_server = None
        if grpc:
            self.grpc_url = self._start_grpc()

    def _start_grpc(self) -> str:
        from concurrent import futures

        import grpc as grpclib
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

        recorder = self

        def grpc_meta(context: Any) -> tuple[str, str]:
            meta = dict(context.invocation_metadata())
            return meta.get("content-type", "application/grpc"), meta.get("grpc-encoding", "")

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                ctype, encoding = grpc_meta(context)
                recorder.add(Received("grpc", "/v1/traces", ctype, encoding, request.SerializeToString()))
                return ExportTraceServiceResponse()

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                ctype, encoding = grpc_meta(context)
                recorder.add(Received("grpc", "/v1/logs", ctype, encoding, request.SerializeToString()))
                return ExportLogsServiceResponse()

        server = grpclib.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self.grpc_server = server
        return f"http://127.0.0.1:{port}"

    def add(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def take(self) -> list[Received]:
        with self.lock:
            items, self.received = self.received, []
        return items

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.grpc_server is not None:
            self.grpc_server.stop(None)


def save_case(out: Path, case: str, items: list[Received], manifest: dict[str, Any]) -> None:
    """Write one case's requests: traces as ``<case>.pb``, logs as ``<case>.logs.pb``, a ``.json`` beside each."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for item in items:
        stem = case if item.path == "/v1/traces" else f"{case}.logs"
        counts[stem] = counts.get(stem, 0) + 1
        if counts[stem] > 1:  # a second batch in one case (rare: the processors are flushed per case)
            stem = f"{stem}.{counts[stem]}"
        raw_name = f"{stem}.otlp.json" if item.is_json else f"{stem}.pb"
        (out / raw_name).write_bytes(item.body)
        (out / f"{stem}.json").write_text(item.readable())
        manifest[raw_name] = {
            "transport": item.transport,
            "path": item.path,
            "content_type": item.content_type,
            "content_encoding": item.content_encoding or None,
            "transfer_encoding": item.transfer_encoding or None,
            "bytes": len(item.body),
            "note": "decompressed from gzip as received" if item.content_encoding == "gzip" else None,
        }


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    (out / "manifest.json").write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    recorder = Recorder(args.port)
    print(f"recording OTLP/HTTP at {recorder.url} into {args.out}", flush=True)
    manifest: dict[str, Any] = {}
    n = 0
    try:
        while True:
            threading.Event().wait(0.2)
            for item in recorder.take():
                n += 1
                save_case(args.out, f"request{n:03d}", [item], manifest)
                write_manifest(args.out, manifest)
                print(f"request{n:03d}: {item.path} {item.content_type} {len(item.body)} bytes", flush=True)
    except KeyboardInterrupt:
        recorder.close()


if __name__ == "__main__":
    main()
