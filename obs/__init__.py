"""obs: open-source LLM observability. Record every call, see what it cost, replay it.

import obs
client = obs.wrap(OpenAI())
with obs.trace("answer_question", user_id="u42", feature="ticket_triage"):
    client.chat.completions.create(model="gpt-5-mini", messages=[...])
"""

from __future__ import annotations

from obs.records import CallContent, Feedback, LLMCall, Span, Trace
from obs.sdk import (
    configure,
    dspy_callback,
    feedback,
    flush,
    get_call_id,
    litellm_callback,
    logged_completion,
    observe,
    span,
    stats,
    trace,
    wrap,
)
from obs.store import queries
from obs.store.store import Store

__all__ = [
    "CallContent",
    "Feedback",
    "LLMCall",
    "Span",
    "Store",
    "Trace",
    "configure",
    "dspy_callback",
    "feedback",
    "flush",
    "get_call_id",
    "litellm_callback",
    "logged_completion",
    "observe",
    "queries",
    "span",
    "stats",
    "trace",
    "wrap",
]
