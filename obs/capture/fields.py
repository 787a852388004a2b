"""Reading a response field the same way from an SDK object or from the JSON object it was parsed from.

The writer usually reads the response body the client received, not the objects the SDK built from it (see
``recording.RecordedCall.finish``), so the extractors of whole responses accept either.
"""

from __future__ import annotations

from typing import Any


def get(value: Any, name: str) -> Any:
    """A field of an SDK object or of the JSON object it was parsed from (None when absent)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)
