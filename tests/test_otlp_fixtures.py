"""Payloads recorded from the real instrumentations (tests/otlp_fixtures/, made by tests/otlp_record/: the fake
OpenAI server, each instrumentation's own exporter) sent to the real collector, the way each exporter sent them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx2
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from obs.pricing.prices import Pricer, Usage
from obs.records import LLMCall, Trace
from tests.collector_rig import Collector

FIXTURES = Path(__file__).parent / "otlp_fixtures"
ANSWER = "Echo: What is the capital of France? "
SYSTEM = "You are a terse assistant. Answer in one sentence."


def send(collector: Collector, fixture: str, *, gzipped: bool = False, chunked: bool = False) -> Trace:
    """POST a recorded export as its exporter did (protobuf, or OTLP/JSON with hex ids); its stored trace."""
    path = FIXTURES / fixture
    body = path.read_bytes()
    as_json = path.suffix == ".json"
    headers = {"content-type": "application/json" if as_json else "application/x-protobuf",
               "authorization": "Bearer s3cret"}  # fmt: skip
    if gzipped:
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    content: bytes | Iterator[bytes] = iter([body[:100], body[100:]]) if chunked else body
    answer = httpx2.post(f"{collector.http}/v1/traces", content=content, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    trace_id = trace_of(body if not gzipped else gzip.decompress(body), as_json)
    trace = collector.store.get_trace(trace_id)
    assert trace is not None
    return trace


def trace_of(body: bytes, as_json: bool) -> str:
    if as_json:
        return str(json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"])
    return ExportTraceServiceRequest.FromString(body).resource_spans[0].scope_spans[0].spans[0].trace_id.hex()


def only_call(collector: Collector, trace: Trace) -> LLMCall:
    assert len(trace.calls) == 1, trace.calls
    call = collector.store.get_call(trace.calls[0].id)
    assert call is not None and call.content is not None and call.source == "otlp"
    return call


def priced(call: LLMCall) -> bool:
    assert call.prompt_tokens is not None and call.completion_tokens is not None
    usage = Usage(call.prompt_tokens, call.completion_tokens, call.cached_tokens or 0, call.reasoning_tokens or 0)
    return call.cost_usd is not None and call.cost_usd == Pricer().cost(
        call.model, usage, response_model=call.response_model, provider=call.provider, ts=call.ts)  # fmt: skip


@pytest.mark.parametrize(("fixture", "gzipped", "chunked"), [
    ("openllmetry/chat.pb", False, False),  # OpenLLMetry 0.62: the GenAI conventions' JSON messages
    ("openinference/chat.pb", True, False),  # OpenInference (Python): llm.input_messages.N.message.*, gzip
    ("openai_v2/chat.pb", False, False),  # opentelemetry-instrumentation-openai-v2: the newest conventions
    ("openinference_js/chat.pb", False, True),  # OpenInference JS: chunked, as Node's exporter sends it
    ("openinference_js_json/chat.otlp.json", False, True),  # OpenInference JS over OTLP/JSON (hex ids)
])  # fmt: skip
def test_a_chat_call_of_every_instrumentation_is_stored_whole(
    collector: Collector, fixture: str, gzipped: bool, chunked: bool
) -> None:
    trace = send(collector, fixture, gzipped=gzipped, chunked=chunked)
    call = only_call(collector, trace)
    assert call.model == "gpt-5-mini" and call.provider == "openai" and call.status == "ok"
    assert call.content.system_prompt == SYSTEM and call.content.output_text == ANSWER  # type: ignore[union-attr]
    assert call.content.messages == [{"role": "system", "content": SYSTEM},  # type: ignore[union-attr]
                                     {"role": "user", "content": "What is the capital of France?"}]  # fmt: skip
    assert call.prompt_tokens == 37 and call.completion_tokens == 17 and priced(call)
    assert (call.user_id, call.session_id) == ("user-42", "session-7")
    roots = [s for s in trace.spans if s.parent_id is None]
    assert [s.name for s in roots] == ["answer_question"]
    assert call.parent_id in {s.id for s in trace.spans}  # the call hangs in its trace's tree
    if not fixture.startswith("openai_v2"):  # openai-v2 reports no cache or reasoning tokens
        assert (call.cached_tokens, call.reasoning_tokens) == (18, 8)


def test_openinferences_stream_has_its_first_token_time(collector: Collector) -> None:
    call = only_call(collector, send(collector, "openinference/stream.pb"))
    assert call.stream and call.latency_ms_first_token is not None and call.latency_ms is not None
    assert 0 <= call.latency_ms_first_token <= call.latency_ms and priced(call)


@pytest.mark.parametrize("fixture", ["openllmetry/tool_call.pb", "openinference/tool_call.pb",
                                     "openai_v2/tool_call.pb"])  # fmt: skip
def test_tool_calls_are_stored_as_chat_tool_calls(collector: Collector, fixture: str) -> None:
    call = only_call(collector, send(collector, fixture))
    tool_calls = call.content.tool_calls  # type: ignore[union-attr]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in tool_calls] == [
        ("get_weather", {"city": "Paris"})]  # fmt: skip


@pytest.mark.parametrize("fixture", ["openllmetry/error_429.pb", "openinference/error_429.pb",
                                     "openai_v2/error_429.pb"])  # fmt: skip
def test_a_429_is_a_failed_call(collector: Collector, fixture: str) -> None:
    call = only_call(collector, send(collector, fixture))
    assert call.status == "error" and call.error_type == "RateLimitError" and call.cost_usd is None
    assert call.error is not None and "429" in call.error


def test_the_recorded_grpc_export_is_taken_over_grpc(collector: Collector) -> None:
    request = ExportTraceServiceRequest.FromString((FIXTURES / "openllmetry/chat.grpc.pb").read_bytes())
    with grpc.insecure_channel(collector.grpc) as channel:
        TraceServiceStub(channel).Export(request, metadata=[("authorization", "Bearer s3cret")])
    trace = collector.store.get_trace(request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex())
    assert trace is not None and len(trace.calls) == 1 and trace.calls[0].prompt_tokens == 37
