"""Pure extraction from real openai types to records: no network, no database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from obs import config
from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.capture.openai.streams import chat_stream_output
from obs.pricing.prices import Pricer
from obs.records import LLMCall
from obs.serialize import RawJson
from tests import fake_openai

REQUEST = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}
T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def event(**fields: object) -> CallEvent:
    values: dict[str, object] = {
        "kind": "chat", "call_id": "c1", "trace_id": "t1", "parent_id": None, "ts": T0, "start_ns": 0,
        "end_ns": 1_500_000_000, "request": REQUEST,
    }  # fmt: skip
    values.update(fields)
    return CallEvent(**values)  # type: ignore[arg-type]


def build(e: CallEvent) -> LLMCall:
    return build_call(e, Pricer(), config.REFUSAL_PATTERNS)


def test_chat_completion_with_cached_and_reasoning_tokens() -> None:
    completion = ChatCompletion.model_validate(fake_openai.chat_completion(dict(REQUEST)))
    call = build_call(event(response=completion), Pricer(), config.REFUSAL_PATTERNS)
    assert completion.usage is not None
    assert (
        call.prompt_tokens == completion.usage.prompt_tokens
        and call.cached_tokens == completion.usage.prompt_tokens // 2
    )
    assert call.reasoning_tokens == 8 and call.latency_ms == 1500 and call.status == "ok"
    assert call.response_model == "gpt-5-mini-2025-08-07" and call.cost_usd is not None


def test_stream_without_usage_is_unpriced_not_zero() -> None:
    body = {**REQUEST, "stream": True}
    chunks = [ChatCompletionChunk.model_validate(c) for c in fake_openai.chat_chunks(body)]
    call = build_call(event(request=body, chunks=chunks), Pricer(), config.REFUSAL_PATTERNS)
    assert call.cost_usd is None and call.prompt_tokens is None
    assert call.content is not None and call.content.output_text == "Echo: hi "


def test_stream_with_usage_chunk_is_priced_like_the_whole_response() -> None:
    body = {**REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    chunks = [ChatCompletionChunk.model_validate(c) for c in fake_openai.chat_chunks(body)]
    whole = ChatCompletion.model_validate(fake_openai.chat_completion(body))
    streamed = build_call(event(request=body, chunks=chunks), Pricer(), config.REFUSAL_PATTERNS)
    assert whole.usage is not None and streamed.prompt_tokens == whole.usage.prompt_tokens
    assert streamed.cost_usd == Pricer().cost("gpt-5-mini", chat_stream_output(chunks).usage)
    assert streamed.cost_usd is not None and streamed.cost_usd > Decimal(0)


def test_parallel_tool_call_deltas_are_merged_by_index() -> None:
    base = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(tool_calls: list[dict[str, object]], finish: str | None = None) -> ChatCompletionChunk:
        choice = {"index": 0, "delta": {"tool_calls": tool_calls}, "finish_reason": finish}
        return ChatCompletionChunk.model_validate({**base, "choices": [choice]})

    chunks = [
        chunk([{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x"'}}]),
        chunk([{"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]),
        chunk([{"index": 0, "function": {"arguments": ": 1}"}}], "tool_calls"),
    ]
    out = chat_stream_output(chunks)
    assert out.tool_calls == [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
    ]
    assert out.finish_reason == "tool_calls"


def test_responses_api_usage_and_text() -> None:
    body = {"model": "gpt-5-mini", "input": "hello", "instructions": "Be brief"}
    response = Response.model_validate(fake_openai.response_object(body))
    call = build_call(event(kind="responses", request=body, response=response), Pricer(), config.REFUSAL_PATTERNS)
    assert call.content is not None and call.content.output_text == "Echo: hello "
    assert call.content.system_prompt == "Be brief" and call.finish_reason == "completed"
    assert call.reasoning_tokens == 8 and call.cost_usd is not None


def _without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]


@pytest.mark.parametrize(
    ("kind", "body", "payload"),
    [
        ("chat", REQUEST, fake_openai.chat_completion(dict(REQUEST))),
        ("chat", {**REQUEST, "tools": TOOLS}, fake_openai.chat_completion({**REQUEST, "tools": TOOLS})),
        ("chat", {**REQUEST, "model": "refuse"}, fake_openai.chat_completion({**REQUEST, "model": "refuse"})),
        ("responses", {"model": "gpt-5-mini", "input": "hi"}, fake_openai.response_object({"model": "gpt-5-mini",
         "input": "hi"})),
        ("responses", {"model": "gpt-5-mini", "input": "hi"}, {**fake_openai.response_object({"model": "gpt-5-mini",
         "input": "hi"}), "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "weather", "arguments": "{}"},
            {"type": "message", "id": "m", "status": "completed", "role": "assistant", "content": [
                {"type": "refusal", "refusal": "I can't help with that."},
                {"type": "output_text", "text": "Partial", "annotations": []}]}]}),
    ],
)  # fmt: skip
def test_a_call_read_from_the_body_alone_equals_the_call_read_from_the_sdk_objects(
    kind: str, body: dict[str, object], payload: dict[str, object]
) -> None:
    """The caller's thread keeps only the response body when it has one; the record must not change."""
    raw = json.dumps(payload).encode()
    model = (ChatCompletion if kind == "chat" else Response).model_validate(payload)
    from_objects = build(event(kind=kind, request=body, response=model, response_body=raw))
    from_body = build(event(kind=kind, request=body, response=None, response_body=raw))
    assert from_objects.content is not None and from_body.content is not None
    assert replace(from_body, content=None) == replace(from_objects, content=None)
    tool_calls = [c.tool_calls for c in (from_objects.content, from_body.content)]
    tool_calls = [json.loads(c) if isinstance(c, RawJson) else c for c in tool_calls]
    assert (tool_calls[1] is not None) == ("tools" in body or payload.get("status") == "incomplete")
    assert _without_nulls(tool_calls[0]) == _without_nulls(tool_calls[1])
    assert replace(from_body.content, tool_calls=None) == replace(from_objects.content, tool_calls=None)


def test_embeddings_keep_the_shape_not_the_vectors() -> None:
    body = {"model": "text-embedding-3-small", "input": ["a", "b"]}
    response = CreateEmbeddingResponse.model_validate(fake_openai.embeddings(body))
    call = build_call(event(kind="embeddings", request=body, response=response), Pricer(), config.REFUSAL_PATTERNS)
    assert call.content is not None and "data" not in call.content.response and "0.1" not in str(call.content)
    assert call.prompt_tokens == 10 and call.completion_tokens == 0


def test_secret_headers_are_not_stored_but_their_names_are() -> None:
    body = {**REQUEST, "extra_headers": {"Authorization": "Bearer sk-secret"}}
    call = build_call(event(request=body), Pricer(), config.REFUSAL_PATTERNS)
    assert call.params is not None and call.params["extra_headers"] == {"Authorization": "<redacted>"}
    assert "sk-secret" not in str(call.params)


@pytest.mark.parametrize("from_body", [False, True])
def test_the_streamed_usage_obs_asked_for_is_not_part_of_the_recorded_request(from_body: bool) -> None:
    sent = {**REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    fields: dict[str, object] = (
        {"request_body": json.dumps(sent).encode(), "request": {}} if from_body else {"request": sent}
    )
    call = build_call(event(usage_added=True, **fields), Pricer(), config.REFUSAL_PATTERNS)
    assert call.params is not None and "stream_options" not in call.params and call.params["stream"] is True
    kept = build_call(event(usage_added=False, **fields), Pricer(), config.REFUSAL_PATTERNS)  # the caller asked
    assert kept.params is not None and kept.params["stream_options"] == {"include_usage": True}


def test_the_openai_user_field_is_the_user_when_no_trace_names_one() -> None:
    call = build_call(event(request={**REQUEST, "user": "u-from-request"}), Pricer(), config.REFUSAL_PATTERNS)
    assert call.user_id == "u-from-request"
    call = build_call(
        event(request={**REQUEST, "user": "u-from-request"}, attrs={"user_id": "u-trace"}),
        Pricer(),
        config.REFUSAL_PATTERNS,
    )
    assert call.user_id == "u-trace"


@pytest.mark.parametrize("kind", ["chat", "responses"])
def test_prompt_cache_writes_openai_reports_are_the_calls_cache_write_tokens(kind: str) -> None:
    def call(writes: int | None) -> LLMCall:
        if kind == "chat":
            body = fake_openai.chat_completion(dict(REQUEST))
            details = body["usage"]["prompt_tokens_details"]
            parsed: object = ChatCompletion
        else:
            body = fake_openai.response_object({"model": "gpt-5-mini", "input": "hi"})
            details = body["usage"]["input_tokens_details"]
            parsed = Response
        if writes is not None:
            details["cache_write_tokens"] = writes
        return build(event(kind=kind, response=parsed.model_validate(body)))  # type: ignore[attr-defined]

    written, plain = call(3), call(None)
    assert (written.cache_write_tokens, plain.cache_write_tokens) == (3, None)
    assert written.cost_usd is not None and written.cost_usd == plain.cost_usd  # gpt-5-mini: writes cost as input


def test_a_chat_call_with_a_top_level_system_prompt_keeps_it() -> None:
    request = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
               "system": [{"type": "text", "text": "You plan trips."}]}  # fmt: skip
    call = build(event(request=request, response=ChatCompletion.model_validate(fake_openai.chat_completion(request))))
    assert call.content is not None and call.content.system_prompt == "You plan trips."
    assert "system" not in (call.params or {})
