"""obs: open-source LLM observability. Record every call, see what it cost, replay it."""

from __future__ import annotations

from obs.records import CallContent, Feedback, LLMCall, Span, Trace
from obs.store import Store

__all__ = ["CallContent", "Feedback", "LLMCall", "Span", "Store", "Trace"]
