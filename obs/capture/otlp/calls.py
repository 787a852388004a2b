"""How ``build`` reads a call that came as a span: the request and response ``spans`` made of its attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obs.capture.events import Output
from obs.capture.fields import params
from obs.pricing.prices import Usage

_CONTENT_KEYS = frozenset({"messages", "system", "tools", "stream"})


def output(response: Mapping[str, Any]) -> Output:
    usage = response.get("usage") or {}
    return Output(
        response=dict(response),
        output_text=response.get("output_text"),
        tool_calls=response.get("tool_calls"),
        finish_reason=response.get("finish_reason"),
        response_model=response.get("model"),
        usage=Usage(
            prompt_tokens=usage["prompt"], completion_tokens=usage.get("completion", 0),
            cached_tokens=usage.get("cached", 0), reasoning_tokens=usage.get("reasoning", 0),
            cache_write_tokens=usage.get("cache_write", 0),
        ) if "prompt" in usage else None,
    )  # fmt: skip


def messages(request: Mapping[str, Any]) -> Any:
    return request.get("messages")


def system_prompt(request: Mapping[str, Any]) -> str | None:
    system = request.get("system")
    return system if isinstance(system, str) else None


def request_params(request: Mapping[str, Any]) -> dict[str, Any]:
    return params(request, _CONTENT_KEYS)
