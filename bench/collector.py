"""OTLP ingest rate: LLM spans over OTLP/HTTP to committed rows, beside a raw insert of the same rows (a benchmark).

For each dialect, in one run, on a fresh schema each time:
  collector -- N GenAI-convention LLM spans (~3 KB of content each), in exports of 512 spans (the OTel SDK's
               batch size), POSTed as protobuf to the real collector (HTTP server and recorder in this process)
               over one keep-alive connection; timed until the last export is answered, i.e. stored;
  raw       -- the rows those spans become, already encoded, inserted as fast as the driver allows
               (SQLite: executemany in 1,000-row transactions; PostgreSQL: COPY).
Also: the memory one in-flight export of 512 spans adds (tracemalloc's peak while it is decoded and read).

    .venv/bin/python -m bench.collector [--spans 20000] [--trials 3] [--postgres URL]   (URL: $OBS_TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from bench.ingest import Rows, fresh_postgres, interleaved, postgres_copy, ratio, sqlite_insert
from obs import config
from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.capture.otlp.spans import read_export
from obs.collector.receiver import Receiver
from obs.collector.server import http_server
from obs.pricing.prices import Pricer
from obs.recorder.queue import Recorder
from obs.store.rows import Codecs
from obs.store.store import Store
from tests.browser import free_port

BATCH = 512


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def exports(n: int, prefix: int) -> list[bytes]:
    """``n`` LLM spans, ``BATCH`` to an export, serialized as an exporter sends them."""
    asked = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "x" * 1400}]}])
    answered = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "y" * 1400}],
                            "finish_reason": "stop"}])  # fmt: skip
    start = time.time_ns() - 3_600_000_000_000
    out = []
    for first in range(0, n, BATCH):
        request = ExportTraceServiceRequest()
        scope = request.resource_spans.add().scope_spans.add()
        for i in range(first, min(n, first + BATCH)):
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                     "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 900,
                     "gen_ai.usage.output_tokens": 350, "gen_ai.usage.cache_read.input_tokens": 512,
                     "gen_ai.response.finish_reasons": "stop", "gen_ai.system_instructions": "You triage tickets.",
                     "gen_ai.input.messages": asked, "gen_ai.output.messages": answered,
                     "obs.user_id": f"u{i % 50}", "obs.feature": "bench"}  # fmt: skip
            scope.spans.append(Span(
                trace_id=(prefix << 96 | i).to_bytes(16, "big"), span_id=(prefix << 40 | i + 1).to_bytes(8, "big"),
                name="chat gpt-4o-mini", kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=start + i * 1_000_000,
                end_time_unix_nano=start + i * 1_000_000 + 800_000_000,
                attributes=[_kv(k, v) for k, v in attrs.items()],
            ))  # fmt: skip
        out.append(request.SerializeToString())
    return out


def collector_rate(url: str, n: int, spool: Path, prefix: int) -> float:
    Store(url).close()
    bodies = exports(n, prefix)
    recorder = Recorder(url, spool_dir=spool)
    port = free_port()
    server = http_server(Receiver(recorder), "127.0.0.1", port)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    gc.collect()
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
        start = time.perf_counter()
        for body in bodies:
            answer = client.post("/v1/traces", content=body, headers={"content-type": "application/x-protobuf"})
            assert answer.status_code == 200, answer.text
        elapsed = time.perf_counter() - start
    server.shutdown()
    stats = recorder.stats()
    assert stats.written == n and stats.spooled == 0, stats
    recorder.shutdown(5)
    return n / elapsed


def rows(n: int, prefix: int, dialect: str) -> Rows:
    """The encoded call and content rows the spans become (built and priced before the clock starts)."""
    codecs, pricer = Codecs(dialect), Pricer()
    records = []
    for body in exports(n, prefix):
        for record in read_export(ExportTraceServiceRequest.FromString(body)).records:
            assert isinstance(record, CallEvent)
            records.append(build_call(record, pricer, config.REFUSAL_PATTERNS))
    return [codecs.call_row(r) for r in records], [codecs.content_row(r) for r in records]


def raw_rate(url: str, n: int, prefix: int) -> float:
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    encoded = rows(n, prefix, dialect)
    if dialect == "sqlite":
        Store(url).close()
        return n / sqlite_insert(url.removeprefix("sqlite:///"), lambda: encoded)
    return n / postgres_copy(url, lambda: encoded)


def in_flight_memory(url: str) -> float:
    """KB that one export of ``BATCH`` spans adds while it is decoded and read into records (tracemalloc peak)."""
    receiver = Receiver(Recorder(url))
    body = exports(BATCH, 99)[0]
    gc.collect()
    tracemalloc.start()
    request = receiver.decode(body, "application/x-protobuf", None)
    read = read_export(request)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del read, request
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=20000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("OBS_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    n = args.spans
    results = {}
    with tempfile.TemporaryDirectory() as tmp:

        def lite(kind: str, i: int) -> str:
            return f"sqlite:///{Path(tmp) / f'{kind}-{i}.db'}"

        results["sqlite"] = interleaved(args.trials, {
            "collector": lambda i: collector_rate(lite("c", i), n, Path(tmp) / f"spool{i}", 2 * i + 1),
            "raw": lambda i: raw_rate(lite("r", i), n, 2 * i + 2),
        })  # fmt: skip
        memory = in_flight_memory(lite("m", 0))
        if args.postgres:
            pg = args.postgres.replace("postgresql+psycopg://", "postgresql://")

            def fresh(measure: Callable[[], float]) -> float:
                fresh_postgres(pg)
                return measure()

            results["postgresql"] = interleaved(args.trials, {
                "collector": lambda i: fresh(lambda: collector_rate(pg, n, Path(tmp) / f"pgspool{i}", 2 * i + 1)),
                "raw": lambda i: fresh(lambda: raw_rate(pg, n, 2 * i + 2)),
            })  # fmt: skip
    print(f"{n} LLM spans a run, ~3 KB of content each, {BATCH} spans an export; {args.trials} rounds, back to back:")
    for dialect, rates in results.items():
        ours, raw = statistics.median(rates["collector"]), statistics.median(rates["raw"])
        print(f"{dialect}")
        print(f"  collector, OTLP/HTTP to committed row   {ours:8,.0f} spans/s")
        print(f"  raw insert of pre-encoded rows          {raw:8,.0f} rows/s    collector/raw "
              f"{ratio(rates, 'collector', 'raw')}")  # fmt: skip
    print(f"memory of one in-flight export of {BATCH} spans: {memory:,.0f} KB ({memory / BATCH:.1f} KB a span)")


if __name__ == "__main__":
    main()
