"""The Responses API (``client.responses.create`` / ``parse``): what a whole response says.

Pure code over the SDK's objects or the JSON they were parsed from; streamed events are read in ``streams``.
"""

from __future__ import annotations

from typing import Any

from obs.capture.events import Output
from obs.capture.fields import get
from obs.pricing.prices import Usage


def responses_output(response: Any) -> Output:
    """A Responses API response (or its JSON): output text, function calls, refusal parts, usage with details."""
    items = get(response, "output") or []
    tool_calls = [item for item in items if get(item, "type") in {"function_call", "custom_tool_call"}]
    texts: list[str] = []
    refusals: list[str] = []
    for item in items:
        if get(item, "type") == "message":
            for part in get(item, "content") or []:
                kind = get(part, "type")
                if kind == "output_text":  # what the SDK's output_text property joins
                    texts.append(get(part, "text") or "")
                elif kind == "refusal":
                    refusals.append(get(part, "refusal") or "")
    return Output(
        response=response,
        output_text="".join(texts) or None,
        tool_calls=tool_calls or None,
        finish_reason=get(get(response, "incomplete_details"), "reason") or get(response, "status"),
        response_model=get(response, "model"),
        refusal="".join(refusals) or None,
        usage=responses_usage(get(response, "usage")),
    )


def responses_usage(usage: Any) -> Usage | None:
    """Responses API usage (input/output tokens) in chat terms."""
    input_tokens = get(usage, "input_tokens")
    if input_tokens is None:
        return None
    return Usage(
        prompt_tokens=int(input_tokens),
        completion_tokens=int(get(usage, "output_tokens") or 0),
        cached_tokens=int(get(get(usage, "input_tokens_details"), "cached_tokens") or 0),
        reasoning_tokens=int(get(get(usage, "output_tokens_details"), "reasoning_tokens") or 0),
        cache_write_tokens=int(get(get(usage, "input_tokens_details"), "cache_write_tokens") or 0),
    )
