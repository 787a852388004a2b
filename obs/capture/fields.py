"""Reading a response field the same way from an SDK object or from the JSON object it was parsed from, and a
request's model parameters.

The writer usually reads the response body the client received, not the objects the SDK built from it (see
``recording.RecordedCall.finish``), so the extractors of whole responses accept either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from obs.serialize import plain

_SECRET_KEYS = frozenset({"extra_headers"})


def get(value: Any, name: str) -> Any:
    """A field of an SDK object or of the JSON object it was parsed from (None when absent)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def text_of(content: Any) -> str | None:
    """A message's (or a system prompt's) text: the string, or its text blocks' texts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        return "\n".join(parts) or None
    return None


def params(request: Mapping[str, Any], content_keys: Collection[str]) -> dict[str, Any]:
    """The model parameters of a request: everything but its content (stored apart), with header values redacted
    and a type (a structured output's model class) as its qualified name."""
    out: dict[str, Any] = {}
    for key, value in request.items():
        if key in content_keys:
            continue
        if key in _SECRET_KEYS and isinstance(value, Mapping):
            out[key] = {name: "<redacted>" for name in value}
        elif isinstance(value, type):
            out[key] = f"{value.__module__}.{value.__qualname__}"
        else:
            out[key] = plain(value)
    return out
