"""`obs collector`: the real OpenTelemetry SDK and its OTLP exporters (HTTP and gRPC) against the real receiver,
a real store of each dialect. Spans carry the GenAI semantic conventions' attributes as instrumentations set them."""

from __future__ import annotations

import gzip
import json
import time
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from obs.pricing.prices import Pricer, Usage
from tests.collector_rig import Collector

SYSTEM = [{"type": "text", "content": "You triage tickets."}]
ASKED = [{"role": "user", "parts": [{"type": "text", "content": "My printer is on fire"}]}]
ANSWERED = [{"role": "assistant", "parts": [{"type": "text", "content": "Call the fire brigade."}],
             "finish_reason": "stop"}]  # fmt: skip


def provider(exporter: Any, **resource: str) -> TracerProvider:
    """The SDK's usual set-up: a batch processor (a trace's spans leave together, the parent with its calls)."""
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "triage-bot", **resource}))
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    return tracer_provider


def genai_call(tracer_provider: TracerProvider, **extra: Any) -> tuple[str, str, str]:
    """A request span with the app's attributes, and inside it a chat span as GenAI instrumentations write it;
    returns (trace id, parent span id, call span id) as hex."""
    tracer = tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("answer_question", attributes={"obs.user_id": "u42", "obs.feature": "triage",
                                                                      "obs.tenant_id": "acme"}) as parent:  # fmt: skip
        attributes = {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 200, "gen_ai.request.stream": True,
            "gen_ai.response.id": "chatcmpl-1", "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_read.input_tokens": 1024, "gen_ai.usage.reasoning.output_tokens": 16,
            "gen_ai.response.time_to_first_chunk": 0.25, "gen_ai.conversation.id": "conv-9",
            "gen_ai.system_instructions": json.dumps(SYSTEM), "gen_ai.input.messages": json.dumps(ASKED),
            "gen_ai.output.messages": json.dumps(ANSWERED), "gen_ai.usage.cost": 99.0, "app.ticket": 17,
            **extra,
        }  # fmt: skip
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes) as span:
            time.sleep(0.3)
    assert tracer_provider.force_flush(30_000)  # the exporter returns once the collector answered: stored
    return (format(parent.get_span_context().trace_id, "032x"), format(parent.get_span_context().span_id, "016x"),
            format(span.get_span_context().span_id, "016x"))  # fmt: skip


def test_an_llm_span_from_the_otlp_http_exporter_becomes_a_priced_call_in_its_trace(collector: Collector) -> None:
    exporter = HttpExporter(endpoint=f"{collector.http}/v1/traces", headers={"Authorization": "Bearer s3cret"})
    trace_id, parent_id, call_id = genai_call(provider(exporter))
    call = collector.store.get_call(call_id)
    assert call is not None, "the exporter returns once the collector answered, and it answers once stored"
    assert (call.trace_id, call.parent_id, call.source) == (trace_id, parent_id, "otlp")
    assert (call.model, call.response_model, call.provider) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")
    assert (call.user_id, call.feature, call.tenant_id, call.session_id) == ("u42", "triage", "acme", "conv-9")
    assert (call.prompt_tokens, call.completion_tokens, call.cached_tokens, call.reasoning_tokens) == (1200, 80, 1024,
                                                                                                        16)  # fmt: skip
    expected = Pricer().cost("gpt-4o-mini", Usage(1200, 80, cached_tokens=1024, reasoning_tokens=16),
                             response_model="gpt-4o-mini-2024-07-18", provider="openai", ts=call.ts)  # fmt: skip
    assert call.cost_usd is not None and call.cost_usd == expected and call.cost_usd != Decimal(99)
    assert call.stream and call.finish_reason == "stop" and call.status == "ok" and call.temperature == 0.2
    assert call.latency_ms is not None and call.latency_ms >= 300 and call.latency_ms_first_token == 250
    assert call.params == {"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 200}
    assert call.content is not None
    assert call.content.system_prompt == "You triage tickets."
    assert call.content.messages == [{"role": "user", "content": "My printer is on fire"}]
    assert call.content.output_text == "Call the fire brigade."
    assert call.metadata is not None and call.metadata["gen_ai.usage.cost"] == 99.0  # kept, never the price
    assert call.metadata["app.ticket"] == 17 and call.metadata["otlp.span_name"] == "chat gpt-4o-mini"
    trace = collector.store.get_trace(trace_id)
    assert trace is not None and [s.name for s in trace.spans] == ["answer_question"]
    assert trace.spans[0].id == parent_id and trace.spans[0].user_id == "u42"


def test_the_grpc_exporter_works_unchanged(collector: Collector) -> None:
    exporter = GrpcExporter(endpoint=collector.grpc, insecure=True, headers={"authorization": "Bearer s3cret"})
    trace_id, _, call_id = genai_call(provider(exporter))
    call = collector.store.get_call(call_id)
    assert call is not None and call.trace_id == trace_id and call.prompt_tokens == 1200


def test_an_error_span_is_a_failed_call_with_its_exception(collector: Collector) -> None:
    tracer_provider = provider(HttpExporter(endpoint=f"{collector.http}/v1/traces",
                                            headers={"Authorization": "Bearer s3cret"}))  # fmt: skip
    tracer = tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("chat gpt-4o-mini", attributes={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.provider.name": "openai",
        "error.type": "429", "http.response.status_code": 429}) as span:  # fmt: skip
        span.record_exception(RuntimeError("Rate limit reached"))
        span.set_status(Status(StatusCode.ERROR, "Rate limit reached"))
    assert tracer_provider.force_flush(30_000)
    call = collector.store.get_call(format(span.get_span_context().span_id, "016x"))
    assert call is not None and call.status == "error" and call.error_type == "RuntimeError"
    assert call.error == "RuntimeError (429): Rate limit reached" and call.cost_usd is None


def request_body(**extra: Any) -> bytes:
    """A protobuf export with one GenAI chat span, made with the SDK's own encoder."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    genai_call(provider(memory), **extra)
    return bytes(encode_spans(memory.get_finished_spans()).SerializeToString())


def post(collector: Collector, body: bytes, **headers: str) -> httpx2.Response:
    headers = {"content-type": "application/x-protobuf", "authorization": "Bearer s3cret", **headers}
    return httpx2.post(f"{collector.http}/v1/traces", content=body, headers=headers, timeout=30)


def test_json_and_gzip_bodies_are_read_and_a_retry_stores_each_span_once(collector: Collector) -> None:
    body = request_body()
    request = ExportTraceServiceRequest.FromString(body)
    as_json = json_format.MessageToJson(request).encode()
    first = post(collector, gzip.compress(as_json), **{"content-type": "application/json", "content-encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    again = post(collector, body)  # the exporter retried the same batch, in protobuf
    assert (
        again.status_code == 200
        and ExportTraceServiceResponse.FromString(again.content).partial_success.rejected_spans == 0
    )
    trace_id = request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    trace = collector.store.get_trace(trace_id)
    assert trace is not None and len(trace.calls) == 1 and len(trace.spans) == 1


def test_bad_requests_get_a_status_and_a_reason(collector: Collector) -> None:
    body = request_body()
    assert post(collector, body, authorization="Bearer wrong").status_code == 401
    assert post(collector, body, authorization="").status_code == 401
    garbage = post(collector, b"\x0a\xff\xff\xff\x00garbage")
    assert garbage.status_code == 400 and "not an OTLP protobuf ExportTraceServiceRequest" in garbage.json()["message"]
    bad_json = post(collector, b"{not json", **{"content-type": "application/json"})
    assert bad_json.status_code == 400 and "OTLP/JSON" in bad_json.json()["message"]
    assert post(collector, body, **{"content-type": "text/plain"}).json()["message"].startswith("unsupported content")
    assert post(collector, b"x" * (300 * 1024)).status_code == 413
    bomb = gzip.compress(b"\x00" * (5 * 1024 * 1024))  # small on the wire, 5 MB inflated: over the 256 KB limit
    assert post(collector, bomb, **{"content-encoding": "gzip"}).status_code == 413
    assert httpx2.post(f"{collector.http}/v1/metrics", content=b"", timeout=5).status_code == 404
    logs = httpx2.post(f"{collector.http}/v1/logs", content=b"", timeout=5)
    assert logs.status_code == 404 and "CAPTURE_MESSAGE_CONTENT=span_only" in logs.json()["message"]


def test_unreadable_spans_are_refused_the_otlp_way_and_the_rest_stored(collector: Collector) -> None:
    request = ExportTraceServiceRequest.FromString(request_body())
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[0].span_id = b"\x00" * 8  # the first span (the chat span ends first) has no usable id
    answer = post(collector, request.SerializeToString())
    result = ExportTraceServiceResponse.FromString(answer.content)
    assert answer.status_code == 200 and result.partial_success.rejected_spans == 1
    assert "span_id must be 8 bytes, not all zero" in result.partial_success.error_message
    trace = collector.store.get_trace(spans[1].trace_id.hex())
    assert trace is not None and len(trace.spans) == 1 and not trace.calls


def test_content_on_the_inference_details_event_is_read_like_attributes(collector: Collector) -> None:
    tracer_provider = provider(HttpExporter(endpoint=f"{collector.http}/v1/traces",
                                            headers={"Authorization": "Bearer s3cret"}))  # fmt: skip
    with tracer_provider.get_tracer("test").start_as_current_span("chat gpt-4o-mini", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 4}) as span:  # fmt: skip
        span.add_event("gen_ai.client.inference.operation.details", attributes={
            "gen_ai.input.messages": json.dumps(ASKED), "gen_ai.output.messages": json.dumps(ANSWERED),
            "gen_ai.system_instructions": json.dumps(SYSTEM)})  # fmt: skip
    assert tracer_provider.force_flush(30_000)
    call = collector.store.get_call(format(span.get_span_context().span_id, "016x"))
    assert call is not None and call.content is not None
    assert call.content.system_prompt == "You triage tickets." and call.content.output_text == "Call the fire brigade."
    assert call.content.messages == [{"role": "user", "content": "My printer is on fire"}]


def test_grpc_without_the_token_is_unauthenticated_and_nothing_is_stored(collector: Collector) -> None:
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

    body = request_body()
    with grpc.insecure_channel(collector.grpc) as channel:
        stub = TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Export(ExportTraceServiceRequest.FromString(body), metadata=[("authorization", "Bearer wrong")])
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        trace_id = ExportTraceServiceRequest.FromString(body).resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
        assert collector.store.get_trace(trace_id) is None
        answer = stub.Export(ExportTraceServiceRequest.FromString(body), metadata=[("authorization", "Bearer s3cret")])
    assert answer.partial_success.rejected_spans == 0
    trace = collector.store.get_trace(trace_id)
    assert trace is not None and len(trace.calls) == 1


def test_a_grpc_export_over_the_body_limit_is_refused_and_stores_nothing(collector: Collector) -> None:
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

    big = "x" * (300 * 1024)  # the rig's limit is 256 KB
    request = ExportTraceServiceRequest.FromString(request_body(**{"gen_ai.input.messages": big}))
    with grpc.insecure_channel(collector.grpc) as channel, pytest.raises(grpc.RpcError) as refused:
        TraceServiceStub(channel).Export(request, metadata=[("authorization", "Bearer s3cret")])
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trace_id = request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    assert collector.store.get_trace(trace_id) is None
