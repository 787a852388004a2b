"""What obs records, as plain frozen values. Identity and persistence are the store's concern."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

ContentState = Literal["full", "redacted", "metadata_only", "expired"]
Source = Literal["sdk", "replay", "proxy", "otlp", "import"]
CostState = Literal["priced", "unpriced", "no_usage"]


def new_trace_id() -> str:
    """A W3C trace id: 32 lowercase hex characters."""
    return os.urandom(16).hex()


def new_span_id() -> str:
    """A W3C span id: 16 lowercase hex characters (also used for call ids)."""
    return os.urandom(8).hex()


@dataclass(frozen=True, slots=True)
class CallContent:
    """What the model saw and said, kept apart from the metadata."""

    system_prompt: str | None = None
    messages: Any = None
    tools: Any = None
    response: Any = None
    tool_calls: Any = None
    output_text: str | None = None


@dataclass(frozen=True, slots=True)
class LLMCall:
    """One LLM call: metadata (one ``llm_calls`` row) plus optional content."""

    id: str
    trace_id: str
    ts: datetime
    model: str
    parent_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    feature: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] | None = None
    provider: str | None = None
    response_model: str | None = None
    temperature: float | None = None
    params: Mapping[str, Any] | None = None
    prompt_version: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    #: Prompt tokens written to the provider's prompt cache (Anthropic bills them at their own rate).
    cache_write_tokens: int | None = None
    cost_usd: Decimal | None = None
    latency_ms: int | None = None
    latency_ms_first_token: int | None = None
    stream: bool = False
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    error_type: str | None = None
    is_refusal: bool = False
    user_feedback: str | None = None
    content_state: ContentState = "full"
    #: The privacy policy the call was stored under (``full``, ``redact``, ``metadata_only``, ``sample:0.1``...).
    privacy_policy: str | None = None
    source: Source = "sdk"
    replay_of: str | None = None
    content: CallContent | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Span:
    """A non-LLM step of a trace (retrieval, a tool, a whole request)."""

    id: str
    trace_id: str
    name: str
    start_ts: datetime
    parent_id: str | None = None
    kind: str = "span"
    end_ts: datetime | None = None
    latency_ms: int | None = None
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    input: Any = None
    output: Any = None
    metadata: Mapping[str, Any] | None = None
    user_id: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    feature: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Feedback:
    """Thumbs up/down or a score, on a call or a whole trace."""

    id: str
    ts: datetime
    value: str
    call_id: str | None = None
    trace_id: str | None = None
    score: float | None = None
    comment: str | None = None
    source: str = "app"
    reviewer: str | None = None
    #: The feature whose privacy policy the comment is stored under (not a column): ``obs.feedback`` sets the
    #: trace context's, the writer replaces it with the feature of the call or trace the feedback is about.
    feature: str | None = None


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything recorded under one trace id, in time order."""

    trace_id: str
    calls: tuple[LLMCall, ...]
    spans: tuple[Span, ...]


def cost_state(call: LLMCall) -> CostState:
    """Priced, unpriced (used the model, no known price), or no usage (failed before any token): sql/_unpriced.sql."""
    if call.cost_usd is not None:
        return "priced"
    used = (
        call.status != "error"  # an answer came back: the model ran, whether or not the provider said how much
        or call.prompt_tokens is not None
        or call.completion_tokens is not None
        or call.latency_ms_first_token is not None  # a stream cut off after its first token
    )
    return "unpriced" if used else "no_usage"
