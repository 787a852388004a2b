"""Chat Completions (``client.chat.completions.create`` / ``parse``): what a whole completion says.

Pure code over the SDK's objects or the JSON they were parsed from; streamed chunks are assembled in ``streams``.
"""

from __future__ import annotations

from typing import Any

from obs.capture.events import Output
from obs.capture.fields import get
from obs.pricing.prices import Usage


def chat_output(completion: Any) -> Output:
    """A ChatCompletion (or ParsedChatCompletion, or its JSON): first choice's message, tool calls, usage."""
    choices = get(completion, "choices") or []
    first = choices[0] if choices else None
    message = get(first, "message")
    return Output(
        response=completion,
        output_text=get(message, "content"),
        tool_calls=get(message, "tool_calls") or None,
        finish_reason=get(first, "finish_reason"),
        response_model=get(completion, "model"),
        refusal=get(message, "refusal"),
        usage=chat_usage(get(completion, "usage")),
    )


def chat_usage(usage: Any) -> Usage | None:
    """OpenAI chat usage, with cached prompt tokens, prompt cache writes and reasoning tokens when reported (cache
    writes as OpenAI names them, or as litellm does for Anthropic's: ``cache_creation_tokens``)."""
    prompt_tokens = get(usage, "prompt_tokens")
    if prompt_tokens is None:
        return None
    details = get(usage, "prompt_tokens_details")
    return Usage(
        prompt_tokens=int(prompt_tokens),
        completion_tokens=int(get(usage, "completion_tokens") or 0),
        cached_tokens=int(get(details, "cached_tokens") or 0),
        reasoning_tokens=int(get(get(usage, "completion_tokens_details"), "reasoning_tokens") or 0),
        cache_write_tokens=int(get(details, "cache_write_tokens") or get(details, "cache_creation_tokens") or 0),
    )
