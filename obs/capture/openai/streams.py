"""Streamed calls: the chunks (chat) or events (responses) a stream yielded, assembled into one output.

Pure code over the SDK's chunk objects, which the stream wrappers in ``recording`` collect on the caller's thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from obs.capture.events import Output
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
    call = calls.setdefault(delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    if delta.id:
        call["id"] = delta.id
    if getattr(delta, "type", None):
        call["type"] = delta.type
    function = getattr(delta, "function", None)
    if function is not None:
        call["function"]["name"] += function.name or ""
        call["function"]["arguments"] += function.arguments or ""


def responses_stream_output(events: Sequence[Any]) -> Output:
    """A streamed Responses API call: the final response event carries the whole response."""
    for event in reversed(events):
        response = getattr(event, "response", None)
        if response is not None and getattr(event, "type", "").startswith("response."):
            out = responses_output(response)
            if out.output_text is None:
                out.output_text = _delta_text(events)
            return out
    return Output(response={"events": len(events)}, output_text=_delta_text(events))


def _delta_text(events: Sequence[Any]) -> str | None:
    parts = [e.delta for e in events if getattr(e, "type", None) == "response.output_text.delta"]
    return "".join(parts) or None
