"""What an openai request says in a record's terms: its messages, system prompt and model parameters.

Pure functions over the request as the provider got it (the JSON body the client sent, or the arguments);
the table in ``obs.capture.build`` says which of them each API uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obs.capture.fields import params, text_of

#: Request keys that are content (stored apart) or transport details, not model parameters.
_CONTENT_KEYS = frozenset({"messages", "tools", "input", "instructions", "functions", "system"})


def chat_messages(request: Mapping[str, Any]) -> Any:
    """The messages of a chat request."""
    return request.get("messages")


def input_items(request: Mapping[str, Any]) -> Any:
    """The ``input`` of a Responses API or embeddings request, stored as its messages."""
    return request.get("input")


def system_message(request: Mapping[str, Any]) -> str | None:
    """The text of the first system or developer message (or of a top-level ``system``: litellm sends Anthropic
    models a Messages API body and records it as a chat call)."""
    for message in request.get("messages") or []:
        if isinstance(message, Mapping) and message.get("role") in {"system", "developer"}:
            return text_of(message.get("content"))
    return text_of(request.get("system")) if request.get("system") else None


def instructions(request: Mapping[str, Any]) -> str | None:
    """The ``instructions`` of a Responses API request, its system prompt."""
    value = request.get("instructions")
    return value if isinstance(value, str) else None


def request_params(request: Mapping[str, Any]) -> dict[str, Any]:
    """The model parameters of a request: everything but its content, with header values redacted."""
    return params(request, _CONTENT_KEYS)


def drop_added_usage(request: dict[str, Any]) -> None:
    """Take out of ``stream_options`` the ``include_usage`` that obs added (``recording.RecordedCall``)."""
    options = request.get("stream_options")
    if isinstance(options, Mapping):
        options = {k: v for k, v in options.items() if k != "include_usage"}
        if options:
            request["stream_options"] = options
        else:
            del request["stream_options"]
