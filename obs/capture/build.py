"""From a captured provider call to an ``LLMCall`` record: pure code, no I/O, tested with real openai types.

The caller's thread only builds a ``CallEvent`` (a snapshot of the request, the response object or the
streamed chunks, the exception, timings and context). The writer thread turns it into a record here: the
generic steps (request body, errors, timings, pricing, refusal flag) are this module's; what differs between
provider APIs is read by the extractors that ``APIS`` names for the event's kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from obs.capture import refusal, sse
from obs.capture.anthropic import messages
from obs.capture.events import CallEvent, Kind, Output
from obs.capture.openai.chat import chat_output
from obs.capture.openai.embeddings import embeddings_output
from obs.capture.openai.request import (
    chat_messages,
    drop_added_usage,
    input_items,
    instructions,
    request_params,
    system_message,
)
from obs.capture.openai.responses import responses_output
from obs.capture.openai.streams import chat_stream_output, responses_stream_output
from obs.capture.otlp import calls as otlp
from obs.pricing.prices import Pricer
from obs.records import CallContent, LLMCall
from obs.serialize import PlainJson, RawJson, json_ready, plain


@dataclass(frozen=True, slots=True)
class Api:
    """How the calls of one provider API are read: a row of ``APIS``."""

    #: A whole response: the SDK's object, or the JSON object it was parsed from when ``keeps_body``.
    output: Callable[[Any], Output]
    #: Streamed chunks assembled into one output (None: the API does not stream).
    stream_output: Callable[[Sequence[Any]], Output] | None
    messages: Callable[[Mapping[str, Any]], Any]
    system_prompt: Callable[[Mapping[str, Any]], str | None]
    params: Callable[[Mapping[str, Any]], dict[str, Any]]
    #: The response body is what is stored, and what the output is read from when the object was not kept
    #: (not for embeddings, whose vectors are not kept).
    keeps_body: bool = True


#: The provider APIs obs reads, by ``CallEvent.kind``; another adapter adds its rows.
APIS: dict[Kind, Api] = {
    "chat": Api(chat_output, chat_stream_output, chat_messages, system_message, request_params),
    "responses": Api(responses_output, responses_stream_output, input_items, instructions, request_params),
    # Embeddings: the input is stored as the messages; there are no messages to find a system prompt in.
    "embeddings": Api(embeddings_output, None, input_items, system_message, request_params, keeps_body=False),
    "messages": Api(
        messages.message_output,
        messages.stream_output,
        messages.messages,
        messages.system_prompt,
        messages.request_params,
    ),
    # A span an app exported over OTLP, read into a request and a response of their own (capture.otlp.spans).
    "otlp": Api(otlp.output, None, otlp.messages, otlp.system_prompt, otlp.request_params, keeps_body=False),
}


def build_call(event: CallEvent, pricer: Pricer, refusal_patterns: Iterable[str]) -> LLMCall:
    """The stored record of a captured call: content, usage, cost (None when unpriced), refusal flag."""
    api = APIS[event.kind]
    if event.stream_body is not None and event.chunks is None:  # a relayed stream: its events, read here
        event.chunks = sse.objects(event.stream_body)
    request, from_body = _request(event)
    model = str(request.get("model") or "unknown")
    out = _output(event, api)
    error_type, error = _error(event.error)
    if event.stream_abandoned and error is None:
        error_type, error = "StreamAbandoned", "the caller stopped reading the stream before it ended"
    attrs = event.attrs
    latency = _ms(event.end_ns - event.start_ns)
    return LLMCall(
        id=event.call_id,
        trace_id=event.trace_id,
        parent_id=event.parent_id,
        ts=event.ts,
        model=model,
        user_id=attrs.get("user_id") or _request_user(request),
        session_id=attrs.get("session_id"),
        tenant_id=attrs.get("tenant_id"),
        feature=attrs.get("feature"),
        tags=tuple(str(t) for t in attrs.get("tags") or ()),
        metadata=dict(attrs["metadata"]) if attrs.get("metadata") else None,
        provider=event.provider,
        response_model=out.response_model,
        temperature=_float_or_none(request.get("temperature")),
        params=api.params(request),
        prompt_version=attrs.get("prompt_version"),
        finish_reason=out.finish_reason,
        prompt_tokens=out.usage.prompt_tokens if out.usage else None,
        completion_tokens=out.usage.completion_tokens if out.usage else None,
        cached_tokens=out.usage.cached_tokens if out.usage else None,
        reasoning_tokens=out.usage.reasoning_tokens if out.usage else None,
        cache_write_tokens=out.usage.cache_write_tokens if out.usage and out.usage.cache_write_tokens else None,
        cost_usd=pricer.cost(model, out.usage, response_model=out.response_model, provider=event.provider, ts=event.ts),
        latency_ms=latency,
        latency_ms_first_token=_ms(event.first_token_ns - event.start_ns) if event.first_token_ns else None,
        stream=bool(request.get("stream")),
        status="error" if error else "ok",
        error=error,
        error_type=error_type,
        is_refusal=refusal.is_refusal(
            out.output_text, finish_reason=out.finish_reason, refusal=out.refusal, patterns=refusal_patterns
        ),
        source=event.source,  # type: ignore[arg-type]
        replay_of=event.replay_of,
        content=CallContent(
            system_prompt=api.system_prompt(request),
            messages=_content_json(api.messages(request), from_body),
            tools=_content_json(request.get("tools") or request.get("functions"), from_body),
            response=_response_json(event, out, api),
            tool_calls=json_ready(out.tool_calls),
            output_text=out.output_text,
        ),
    )


# --- outputs -----------------------------------------------------------------------------------------


def _output(event: CallEvent, api: Api) -> Output:
    if event.chunks is not None and api.stream_output is not None:
        return api.stream_output(event.chunks)
    response = event.response
    if response is None:
        # The caller's thread keeps the body, not the objects the SDK parsed from it (see RecordedCall.finish);
        # the proxy has only the body, embeddings' too (read for their usage; the vectors are not stored).
        response = _parsed_body(event) if api.keeps_body or event.error is None else None
        if response is None:
            return Output()
    return api.output(response)


def _parsed_body(event: CallEvent) -> dict[str, Any] | None:
    """The provider's JSON response body as a dict (None when there is none, or it is not a JSON object)."""
    if event.response_body is None or event.chunks is not None:
        return None
    try:
        body = orjson.loads(event.response_body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _response_json(event: CallEvent, out: Output, api: Api) -> Any:
    """The response to store: the body the provider sent (exact, and no serialization), else the object's JSON.

    Not for embeddings, whose vectors are not kept, nor for streams and errors."""
    body = event.response_body
    if body is not None and out.response is not None and event.chunks is None and api.keeps_body:
        return RawJson(body.decode("utf-8", errors="replace"))
    return json_ready(out.response)


# --- inputs and errors -------------------------------------------------------------------------------


def _request(event: CallEvent) -> tuple[Mapping[str, Any], bool]:
    """The request as the provider got it: the body the client sent (plus the arguments that are not in it),
    else the snapshot of the arguments, without the streamed usage obs asked for; and whether it is plain JSON
    (the body, read by orjson: no NaN, no objects), which can be written back as it is."""
    plain_json = False
    if event.request_body is None:
        request = dict(event.request)
    else:
        try:
            request, plain_json = orjson.loads(event.request_body), True
        except orjson.JSONDecodeError:
            try:
                request = json.loads(event.request_body)  # NaN or Infinity: marked when stored
            except ValueError:
                request = {"__obs__": "unreadable request body"}
        request.update(event.request)
    if event.usage_added:
        drop_added_usage(request)
    return request, plain_json


def _content_json(value: Any, plain_json: bool) -> Any:
    """Request content to store: a list read from the body is marked as plain JSON (encoded by orjson, without
    the checks anything else gets); anything else as ``plain`` makes it."""
    if plain_json and type(value) is list:
        return PlainJson(value)
    return plain(value)


def _error(exc: BaseException | None) -> tuple[str | None, str | None]:
    if exc is None:
        return None, None
    name = getattr(exc, "error_type", None) or type(exc).__name__  # a span's error says its own type
    status = getattr(exc, "status_code", None)
    message = str(exc) or repr(exc)
    return name, f"{name} ({status}): {message}" if status else f"{name}: {message}"


def _ms(ns: int) -> int:
    return max(0, round(ns / 1_000_000))


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _request_user(request: Mapping[str, Any]) -> str | None:
    """The end user a request names: OpenAI's ``user`` / ``safety_identifier``, Anthropic's ``metadata.user_id``."""
    metadata = request.get("metadata")
    user = metadata.get("user_id") if isinstance(metadata, Mapping) else None
    return _str_or_none(request.get("user") or request.get("safety_identifier") or user)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
