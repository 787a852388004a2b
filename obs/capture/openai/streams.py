"""Streamed calls: the chunks (chat) or events (responses) a stream yielded, assembled into one output.

Pure code over the SDK's chunk objects, which the stream wrappers in ``recording`` collect on the caller's thread,
or over the JSON objects of the events themselves, which the proxy reads from the bytes it relayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from obs.capture.events import Output
from obs.capture.fields import get
from obs.capture.openai.chat import chat_usage
from obs.capture.openai.responses import responses_output
from obs.serialize import plain


def chat_stream_output(chunks: Sequence[Any]) -> Output:
    """Assemble streamed chat chunks: content and tool-call deltas per choice, usage from the final chunk."""
    texts: dict[int, list[str]] = {}
    refusals: dict[int, list[str]] = {}
    finish: dict[int, str] = {}
    tools: dict[int, dict[int, dict[str, Any]]] = {}
    usage = None
    model = response_id = None
    for chunk in chunks:
        model = get(chunk, "model") or model
        response_id = get(chunk, "id") or response_id
        if get(chunk, "usage") is not None:
            usage = get(chunk, "usage")
        for choice in get(chunk, "choices") or []:
            delta, index = get(choice, "delta"), get(choice, "index") or 0
            if delta is not None:
                if get(delta, "content"):
                    texts.setdefault(index, []).append(get(delta, "content"))
                if get(delta, "refusal"):
                    refusals.setdefault(index, []).append(get(delta, "refusal"))
                for call in get(delta, "tool_calls") or []:
                    _merge_tool_delta(tools.setdefault(index, {}), call)
            if get(choice, "finish_reason"):
                finish[index] = get(choice, "finish_reason")
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
    return Output(
        response=response,
        output_text=first["message"]["content"],
        tool_calls=first["message"].get("tool_calls"),
        finish_reason=first["finish_reason"],
        response_model=model,
        refusal=first["message"].get("refusal"),
        usage=chat_usage(usage),
    )


def _merge_tool_delta(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    call = calls.setdefault(
        get(delta, "index") or 0, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if get(delta, "id"):
        call["id"] = get(delta, "id")
    if get(delta, "type"):
        call["type"] = get(delta, "type")
    function = get(delta, "function")
    if function is not None:
        call["function"]["name"] += get(function, "name") or ""
        call["function"]["arguments"] += get(function, "arguments") or ""


def responses_stream_output(events: Sequence[Any]) -> Output:
    """A streamed Responses API call: the final response event carries the whole response."""
    for event in reversed(events):
        response = get(event, "response")
        if response is not None and str(get(event, "type") or "").startswith("response."):
            out = responses_output(response)
            if out.output_text is None:
                out.output_text = _delta_text(events)
            return out
    return Output(response={"events": len(events)}, output_text=_delta_text(events))


def _delta_text(events: Sequence[Any]) -> str | None:
    parts = [get(e, "delta") or "" for e in events if get(e, "type") == "response.output_text.delta"]
    return "".join(parts) or None
