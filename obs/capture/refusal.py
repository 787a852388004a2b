"""Is this answer a refusal? A pure function over what the provider returned."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from obs import config


def normalize(text: str) -> str:
    """Lower case with curly apostrophes made straight, so patterns match either spelling."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def is_refusal(
    output_text: str | None,
    *,
    finish_reason: str | None = None,
    refusal: str | None = None,
    patterns: Iterable[str] = config.REFUSAL_PATTERNS,
) -> bool:
    """True for the provider's refusal field, a content-filter stop, or an answer matching a refusal phrase."""
    if refusal:
        return True
    if finish_reason == "content_filter":
        return True
    if not output_text:
        return False
    return _matcher(tuple(patterns)).search(normalize(output_text)) is not None


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for all phrases: a single pass over the answer (the writer checks every call)."""
    return re.compile("|".join(re.escape(normalize(p)) for p in patterns) or r"(?!x)x")
