"""Embeddings (``client.embeddings.create``): usage and the shape of the result, never the vectors."""

from __future__ import annotations

from typing import Any

from obs.capture.events import Output
from obs.capture.fields import get
from obs.pricing.prices import Usage


def embeddings_output(response: Any) -> Output:
    """Embeddings (the SDK's object or the JSON body): usage and the shape of the result; the vectors themselves
    are not kept."""
    data = get(response, "data") or []
    first = get(data[0], "embedding") if data else None
    usage = get(response, "usage")
    summary = {
        "object": get(response, "object"),
        "model": get(response, "model"),
        "count": len(data),
        "dimensions": len(first) if isinstance(first, list | str) else None,
        "usage": usage,
    }
    prompt_tokens = get(usage, "prompt_tokens")
    return Output(
        response=summary,
        response_model=get(response, "model"),
        usage=None if prompt_tokens is None else Usage(prompt_tokens=int(prompt_tokens), completion_tokens=0),
    )
