"""What every Python recording shares: the recorder, the fake OpenAI server, the OTel SDK wired to the standard OTLP
exporters through OTEL_EXPORTER_OTLP_ENDPOINT, and the four cases, each inside an ``answer_question`` parent span.

A record_<name>.py script sets its instrumentation's environment, instruments openai and calls ``record``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/fake_openai.py

from fake_openai import FakeOpenAI, FakeServer  # noqa: E402
from recorder import Recorder, save_case, write_manifest  # noqa: E402

FIXTURES = HERE.parent / "otlp_fixtures"
MODEL = "gpt-5-mini"
SYSTEM = "You are a terse assistant. Answer in one sentence."
QUESTION = "What is the capital of France?"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}

Context = Callable[[str], contextlib.AbstractContextManager[Any]]


def chat(client: Any) -> None:
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        temperature=0.2,
        max_completion_tokens=64,
    )


def stream(client: Any) -> None:
    chunks = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in chunks:
        pass


def tool_call(client: Any) -> None:
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )


def error_429(client: Any) -> None:
    import openai

    with contextlib.suppress(openai.RateLimitError):  # the LLM span carries the error; the parent span ends OK
        client.chat.completions.create(model="fail-429", messages=[{"role": "user", "content": QUESTION}])


CASES: dict[str, Callable[[Any], None]] = {
    "chat": chat,
    "stream": stream,
    "tool_call": tool_call,
    "error_429": error_429,
}


@contextlib.contextmanager
def no_context(case: str) -> Iterator[None]:
    yield


def record(
    name: str,
    instrument: Callable[[], None],
    parent_attributes: dict[str, Any],
    context: Context = no_context,
    cases: dict[str, Callable[[Any], None]] = CASES,
    logs: bool = False,
    grpc_case: str | None = None,
) -> None:
    """Run ``cases`` against the fake server, each in a parent span, and save what the exporters sent."""
    import openai
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    recorder = Recorder(grpc=grpc_case is not None)
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = recorder.url  # the exporters add /v1/traces, /v1/logs
    fake_server = FakeServer(FakeOpenAI())
    resource = Resource.create({"service.name": f"obs-fixture-{name}", "deployment.environment.name": "test"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    flushes = [provider.force_flush]
    if logs:
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
        set_logger_provider(logger_provider)
        flushes.append(logger_provider.force_flush)

    # After the providers are set: instrumentors that read the global providers at instrument() time see them.
    instrument()
    client = openai.OpenAI(api_key="sk-test", base_url=fake_server.url, max_retries=0)
    tracer = trace.get_tracer("obs.fixtures")
    out = FIXTURES / name
    manifest: dict[str, Any] = {}
    for case, run in cases.items():
        with tracer.start_as_current_span("answer_question", attributes=parent_attributes), context(case):
            run(client)
        for flush in flushes:
            flush()
        items = recorder.take()
        save_case(out, case, items, manifest)
        print(f"{name}/{case}: " + ", ".join(f"{i.path} {len(i.body)} B" for i in items), flush=True)
    if grpc_case is not None:
        # The same case once more through the gRPC exporter: the protobuf is the same message, sent over gRPC.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

        provider.add_span_processor(BatchSpanProcessor(GrpcSpanExporter(endpoint=recorder.grpc_url, insecure=True)))
        with tracer.start_as_current_span("answer_question", attributes=parent_attributes), context(grpc_case):
            cases[grpc_case](client)
        for flush in flushes:
            flush()
        items = [i for i in recorder.take() if i.transport == "grpc"]
        save_case(out, f"{grpc_case}.grpc", items, manifest)
        print(f"{name}/{grpc_case}.grpc: " + ", ".join(f"{i.path} {len(i.body)} B" for i in items), flush=True)
    write_manifest(out, manifest)
    provider.shutdown()
    recorder.close()
    fake_server.close()
