"""An app instrumented with a real OpenTelemetry GenAI instrumentation, run as its own process (instrumentors patch
openai for the whole process), exporting with the standard exporter set by the standard environment variables
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_HEADERS) to whatever listens there.

    python tests/otlp_live_app.py openllmetry|openinference|openai_v2

It calls the fake OpenAI server (tests/fake_openai.py) four times, each inside an ``answer_question`` span: a chat
completion, a stream, a tool call, a 429; prints the trace ids, one a line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_openai import FakeOpenAI, FakeServer

SYSTEM = "You are a terse assistant. Answer in one sentence."
QUESTION = "What is the capital of France?"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}  # fmt: skip


def instrument(name: str) -> None:
    if name == "openllmetry":
        os.environ.setdefault("TRACELOOP_TRACE_CONTENT", "true")
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
    elif name == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        OpenInference().instrument()
    else:  # the official one: content only with the newest conventions and a capture mode (see the README)
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
        os.environ.setdefault("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OpenAIV2

        OpenAIV2().instrument()


def main() -> None:
    import openai
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[assignment]
    provider = TracerProvider(resource=Resource.create({"service.name": "live-app", "obs.tenant_id": "acme"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    instrument(sys.argv[1])
    server = FakeServer(FakeOpenAI())
    client = openai.OpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
    tracer = trace.get_tracer("live-app")
    asked = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    weather = [{"role": "user", "content": "Weather in Paris?"}]
    cases = [
        lambda: client.chat.completions.create(model="gpt-5-mini", messages=asked),
        lambda: list(
            client.chat.completions.create(
                model="gpt-5-mini", messages=asked, stream=True, stream_options={"include_usage": True}
            )
        ),
        lambda: client.chat.completions.create(model="gpt-5-mini", tools=[WEATHER], messages=weather),
        lambda: client.chat.completions.create(model="fail-429", messages=asked),
    ]
    for case in cases:
        parent = tracer.start_as_current_span("answer_question", attributes={"obs.user_id": "u42"})
        with parent as span, contextlib.suppress(openai.RateLimitError):
            case()
        print(format(span.get_span_context().trace_id, "032x"), flush=True)
    assert provider.force_flush(30_000)
    provider.shutdown()
    server.close()


if __name__ == "__main__":
    main()
