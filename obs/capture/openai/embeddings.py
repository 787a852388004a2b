"""Embeddings (``client.embeddings.create``): usage and the shape of the result, never the vectors."""

from __future__ import annotations

from typing import Any

from obs.capture.events import Output
from obs.pricing.prices import Usage


def embeddings_output(response: Any) -> Output:
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
    return Output(
        response=summary,
        response_model=getattr(response, "model", None),
        usage=None if prompt_tokens is None else Usage(prompt_tokens=int(prompt_tokens), completion_tokens=0),
    )
