"""From a captured provider call to an ``LLMCall`` record: pure code, no I/O, tested with real openai types.

The caller's thread only builds a ``CallEvent`` (a snapshot of the request, the response object or the
streamed chunks, the exception, timings and context). The writer thread turns it into a record here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
import pydantic

from obs.capture import refusal
from obs.pricing.prices import Pricer, Usage
from obs.records import CallContent, LLMCall
from obs.serialize import PlainJson, RawJson, json_ready, plain

Kind = Literal["chat", "responses", "embeddings"]

#: Request keys that are content (stored apart) or transport details, not model parameters.
_CONTENT_KEYS = frozenset({"messages", "tools", "input", "instructions", "functions"})
_SECRET_KEYS = frozenset({"extra_headers"})


@dataclass(slots=True)
class CallEvent:
    """What the caller's thread captured about one provider call (cheap to build, processed later)."""

    kind: Kind
    call_id: str
    trace_id: str
    parent_id: str | None
    ts: datetime
    start_ns: int
    request: dict[str, Any]
    provider: str = "openai"
    end_ns: int = 0
    first_token_ns: int | None = None
    response: Any = None
    chunks: list[Any] | None = None
    error: BaseException | None = None
    stream_abandoned: bool = False
    attrs: Mapping[str, Any] = field(default_factory=dict)
    source: str = "sdk"
    replay_of: str | None = None
    #: The JSON body the client sent (then ``request`` holds only the arguments that are not in it).
    request_body: bytes | None = None
    #: The JSON body of the provider's response, when the client read one (not for streams).
    response_body: bytes | None = None
    #: obs asked for streamed usage the caller did not ask for (it is not part of the recorded request).
    usage_added: bool = False


@dataclass(slots=True)
class _Output:
    """What a response (whole or assembled from a stream) tells us."""

    response: Any = None
    output_text: str | None = None
    tool_calls: Any = None
    finish_reason: str | None = None
    response_model: str | None = None
    refusal: str | None = None
    usage: Usage | None = None


def build_call(event: CallEvent, pricer: Pricer, refusal_patterns: Iterable[str]) -> LLMCall:
    """The stored record of a captured call: content, usage, cost (None when unpriced), refusal flag."""
    request, from_body = _request(event)
    model = str(request.get("model") or "unknown")
    out = _output(event)
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
        user_id=attrs.get("user_id") or _str_or_none(request.get("user") or request.get("safety_identifier")),
        session_id=attrs.get("session_id"),
        tenant_id=attrs.get("tenant_id"),
        feature=attrs.get("feature"),
        tags=tuple(str(t) for t in attrs.get("tags") or ()),
        metadata=dict(attrs["metadata"]) if attrs.get("metadata") else None,
        provider=event.provider,
        response_model=out.response_model,
        temperature=_float_or_none(request.get("temperature")),
        params=_params(request),
        prompt_version=attrs.get("prompt_version"),
        finish_reason=out.finish_reason,
        prompt_tokens=out.usage.prompt_tokens if out.usage else None,
        completion_tokens=out.usage.completion_tokens if out.usage else None,
        cached_tokens=out.usage.cached_tokens if out.usage else None,
        reasoning_tokens=out.usage.reasoning_tokens if out.usage else None,
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
            system_prompt=_system_prompt(event.kind, request),
            messages=_content_json(_messages(event.kind, request), from_body),
            tools=_content_json(request.get("tools") or request.get("functions"), from_body),
            response=_response_json(event, out),
            tool_calls=json_ready(out.tool_calls),
            output_text=out.output_text,
        ),
    )


# --- outputs -----------------------------------------------------------------------------------------


def _output(event: CallEvent) -> _Output:
    if event.chunks is not None:
        if event.kind == "chat":
            return chat_stream_output(event.chunks)
        if event.kind == "responses":
            return responses_stream_output(event.chunks)
    response = event.response
    if response is None:
        # The caller's thread keeps the body, not the objects the SDK parsed from it (see _Call.finish).
        response = _parsed_body(event) if event.kind != "embeddings" else None
        if response is None:
            return _Output()
    if not isinstance(response, pydantic.BaseModel) and callable(getattr(response, "parse", None)):
        # client.with_raw_response...: the parsed object is one call away (cached by the SDK, no new request).
        # A with_streaming_response body the app has not finished reading must not be read from here.
        if not getattr(response.http_response, "is_closed", False):
            return _Output()
        response = response.parse()
        if hasattr(response, "__next__") or hasattr(response, "__anext__"):
            return _Output()  # a raw streamed response: the app reads the stream itself; obs sees no chunks
    if event.kind == "chat":
        return chat_output(response)
    if event.kind == "responses":
        return responses_output(response)
    return embeddings_output(response)


def _parsed_body(event: CallEvent) -> dict[str, Any] | None:
    """The provider's JSON response body as a dict (None when there is none, or it is not a JSON object)."""
    if event.response_body is None or event.chunks is not None:
        return None
    try:
        body = orjson.loads(event.response_body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _get(value: Any, name: str) -> Any:
    """A field of an SDK object or of the JSON object it was parsed from (None when absent)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def chat_output(completion: Any) -> _Output:
    """A ChatCompletion (or ParsedChatCompletion, or its JSON): first choice's message, tool calls, usage."""
    choices = _get(completion, "choices") or []
    first = choices[0] if choices else None
    message = _get(first, "message")
    return _Output(
        response=completion,
        output_text=_get(message, "content"),
        tool_calls=_get(message, "tool_calls") or None,
        finish_reason=_get(first, "finish_reason"),
        response_model=_get(completion, "model"),
        refusal=_get(message, "refusal"),
        usage=chat_usage(_get(completion, "usage")),
    )


def chat_usage(usage: Any) -> Usage | None:
    """OpenAI chat usage, with cached prompt tokens and reasoning tokens when reported."""
    prompt_tokens = _get(usage, "prompt_tokens")
    if prompt_tokens is None:
        return None
    return Usage(
        prompt_tokens=int(prompt_tokens),
        completion_tokens=int(_get(usage, "completion_tokens") or 0),
        cached_tokens=int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens") or 0),
        reasoning_tokens=int(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens") or 0),
    )


def chat_stream_output(chunks: Sequence[Any]) -> _Output:
    """Assemble streamed chat chunks: content and tool-call deltas per choice, usage from the final chunk."""
    texts: dict[int, list[str]] = {}
    refusals: dict[int, list[str]] = {}
    finish: dict[int, str] = {}
    tools: dict[int, dict[int, dict[str, Any]]] = {}
    usage = None
    model = response_id = None
    for chunk in chunks:
        model = getattr(chunk, "model", None) or model
        response_id = getattr(chunk, "id", None) or response_id
        if getattr(chunk, "usage", None) is not None:
            usage = chunk.usage
        for choice in getattr(chunk, "choices", None) or []:
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    texts.setdefault(choice.index, []).append(delta.content)
                if getattr(delta, "refusal", None):
                    refusals.setdefault(choice.index, []).append(delta.refusal)
                for call in delta.tool_calls or []:
                    _merge_tool_delta(tools.setdefault(choice.index, {}), call)
            if choice.finish_reason:
                finish[choice.index] = choice.finish_reason
    indexes = sorted(set(texts) | set(finish) | set(tools) | set(refusals)) or [0]
    choices: list[dict[str, Any]] = []
    for index in indexes:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(texts[index]) if index in texts else None,
        }
        if index in refusals:
            message["refusal"] = "".join(refusals[index])
        if index in tools:
            message["tool_calls"] = [tools[index][i] for i in sorted(tools[index])]
        choices.append({"index": index, "message": message, "finish_reason": finish.get(index)})
    first = choices[0]
    response = {"id": response_id, "object": "chat.completion", "model": model, "choices": choices}
    if usage is not None:
        response["usage"] = plain(usage)  # a dict inside a dict: plain, not RawJson
    return _Output(
        response=response,
        output_text=first["message"]["content"],
        tool_calls=first["message"].get("tool_calls"),
        finish_reason=first["finish_reason"],
        response_model=model,
        refusal=first["message"].get("refusal"),
        usage=chat_usage(usage),
    )


def _merge_tool_delta(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    call = calls.setdefault(delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    if delta.id:
        call["id"] = delta.id
    if getattr(delta, "type", None):
        call["type"] = delta.type
    function = getattr(delta, "function", None)
    if function is not None:
        call["function"]["name"] += function.name or ""
        call["function"]["arguments"] += function.arguments or ""


def responses_output(response: Any) -> _Output:
    """A Responses API response (or its JSON): output text, function calls, refusal parts, usage with details."""
    items = _get(response, "output") or []
    tool_calls = [item for item in items if _get(item, "type") in {"function_call", "custom_tool_call"}]
    texts: list[str] = []
    refusals: list[str] = []
    for item in items:
        if _get(item, "type") == "message":
            for part in _get(item, "content") or []:
                kind = _get(part, "type")
                if kind == "output_text":  # what the SDK's output_text property joins
                    texts.append(_get(part, "text") or "")
                elif kind == "refusal":
                    refusals.append(_get(part, "refusal") or "")
    return _Output(
        response=response,
        output_text="".join(texts) or None,
        tool_calls=tool_calls or None,
        finish_reason=_get(_get(response, "incomplete_details"), "reason") or _get(response, "status"),
        response_model=_get(response, "model"),
        refusal="".join(refusals) or None,
        usage=responses_usage(_get(response, "usage")),
    )


def responses_usage(usage: Any) -> Usage | None:
    """Responses API usage (input/output tokens) in chat terms."""
    input_tokens = _get(usage, "input_tokens")
    if input_tokens is None:
        return None
    return Usage(
        prompt_tokens=int(input_tokens),
        completion_tokens=int(_get(usage, "output_tokens") or 0),
        cached_tokens=int(_get(_get(usage, "input_tokens_details"), "cached_tokens") or 0),
        reasoning_tokens=int(_get(_get(usage, "output_tokens_details"), "reasoning_tokens") or 0),
    )


def responses_stream_output(events: Sequence[Any]) -> _Output:
    """A streamed Responses API call: the final response event carries the whole response."""
    for event in reversed(events):
        response = getattr(event, "response", None)
        if response is not None and getattr(event, "type", "").startswith("response."):
            out = responses_output(response)
            if out.output_text is None:
                out.output_text = _delta_text(events)
            return out
    return _Output(response={"events": len(events)}, output_text=_delta_text(events))


def _delta_text(events: Sequence[Any]) -> str | None:
    parts = [e.delta for e in events if getattr(e, "type", None) == "response.output_text.delta"]
    return "".join(parts) or None


def embeddings_output(response: Any) -> _Output:
    """Embeddings: usage and the shape of the result; the vectors themselves are not kept."""
    data = getattr(response, "data", None) or []
    first = getattr(data[0], "embedding", None) if data else None
    usage = getattr(response, "usage", None)
    summary = {
        "object": getattr(response, "object", None),
        "model": getattr(response, "model", None),
        "count": len(data),
        "dimensions": len(first) if isinstance(first, list | str) else None,
        "usage": usage,
    }
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    return _Output(
        response=summary,
        response_model=getattr(response, "model", None),
        usage=None if prompt_tokens is None else Usage(prompt_tokens=int(prompt_tokens), completion_tokens=0),
    )


def _response_json(event: CallEvent, out: _Output) -> Any:
    """The response to store: the body the provider sent (exact, and no serialization), else the object's JSON.

    Not for embeddings, whose vectors are not kept, nor for streams and errors."""
    body = event.response_body
    if body is not None and out.response is not None and event.chunks is None and event.kind != "embeddings":
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
    options = request.get("stream_options")
    if event.usage_added and isinstance(options, Mapping):
        options = {k: v for k, v in options.items() if k != "include_usage"}
        if options:
            request["stream_options"] = options
        else:
            del request["stream_options"]
    return request, plain_json


def _content_json(value: Any, plain_json: bool) -> Any:
    """Request content to store: a list read from the body is marked as plain JSON (encoded by orjson, without
    the checks anything else gets); anything else as ``plain`` makes it."""
    if plain_json and type(value) is list:
        return PlainJson(value)
    return plain(value)


def _messages(kind: Kind, request: Mapping[str, Any]) -> Any:
    if kind == "chat":
        return request.get("messages")
    return request.get("input")


def _system_prompt(kind: Kind, request: Mapping[str, Any]) -> str | None:
    if kind == "responses":
        instructions = request.get("instructions")
        return instructions if isinstance(instructions, str) else None
    for message in request.get("messages") or []:
        if isinstance(message, Mapping) and message.get("role") in {"system", "developer"}:
            return _text_of(message.get("content"))
    return None


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        return "\n".join(parts) or None
    return None


def _params(request: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in request.items():
        if key in _CONTENT_KEYS:
            continue
        if key in _SECRET_KEYS and isinstance(value, Mapping):
            params[key] = {name: "<redacted>" for name in value}
        elif key == "response_format" and isinstance(value, type):
            params[key] = f"{value.__module__}.{value.__qualname__}"
        else:
            params[key] = plain(value)
    return params


def _error(exc: BaseException | None) -> tuple[str | None, str | None]:
    if exc is None:
        return None, None
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = str(exc) or repr(exc)
    return name, f"{name} ({status}): {message}" if status else f"{name}: {message}"


def _ms(ns: int) -> int:
    return max(0, round(ns / 1_000_000))


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
