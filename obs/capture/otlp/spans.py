"""An OTLP trace export (``ExportTraceServiceRequest``) as obs records: each LLM span a ``CallEvent`` (kind
``otlp``, source ``otlp``) with its content, usage, timings and error; every other span a ``Span`` of the same
trace, with its parent. Ids are W3C's already (the span id is the call's id, so an exporter's retry of a batch
stores each span once). Spans that cannot be read are counted and said why, the OTLP way (partial success).

User, session, tenant, feature and prompt version come from the span's attributes, else from its nearest ancestor
in the same export that has them, else from the resource's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from obs.capture.events import CallEvent
from obs.capture.otlp import dialects
from obs.capture.otlp.values import attributes, json_value
from obs.records import Span

#: The span event some GenAI instrumentations carry a call's content on, instead of span attributes.
CONTENT_EVENT = "gen_ai.client.inference.operation.details"
#: The span event OpenInference marks a stream's first token with (its time is the time to first token).
FIRST_TOKEN_EVENT = "first token stream event"
_STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
_SPAN_KINDS = {"llm": "llm", "chain": "chain", "retriever": "retrieval", "tool": "tool", "agent": "agent",
               "embedding": "embedding", "reranker": "reranker", "guardrail": "guardrail", "workflow": "chain",
               "task": "chain"}  # fmt: skip


class SpanError(Exception):
    """A span's error as the instrumentation reported it: its exception type (or ``error.type``) and message."""

    def __init__(self, message: str, error_type: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status_code = status_code


@dataclass
class Export:
    """What one export became: the records, and the spans refused, with why."""

    records: list[CallEvent | Span] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def error_message(self) -> str:
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        return "; ".join(self.errors[:3]) + more


def read_export(request: Any, emit: Callable[[CallEvent | Span], None] | None = None) -> Export:
    """The records of an ``ExportTraceServiceRequest``; each is handed to ``emit`` as soon as it is read, when
    given (the collector's writer then stores the first spans while the rest are read)."""
    out = Export()
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        spans = [span for scope in resource_spans.scope_spans for span in scope.spans]
        by_id = {span.span_id: span for span in spans}
        span_attrs = {span.span_id: _with_events(span) for span in spans}
        for span in spans:
            problem = _problem(span)
            if problem:
                out.rejected += 1
                out.errors.append(problem)
                continue
            attrs = span_attrs[span.span_id]
            inherited = _inherited(span, by_id, span_attrs, resource)
            record = _call(span, attrs, inherited) if dialects.is_llm(attrs) else _span(span, attrs, inherited)
            out.records.append(record)
            if emit is not None:
                emit(record)
    return out


def _problem(span: Any) -> str | None:
    name = span.name or "(unnamed)"
    if len(span.trace_id) != 16 or not any(span.trace_id):
        return f"span {name!r}: trace_id must be 16 bytes, not all zero (got {len(span.trace_id)})"
    if len(span.span_id) != 8 or not any(span.span_id):
        return f"span {name!r}: span_id must be 8 bytes, not all zero (got {len(span.span_id)})"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return f"span {name!r}: parent_span_id must be 8 bytes (got {len(span.parent_span_id)})"
    if not span.start_time_unix_nano or span.end_time_unix_nano < span.start_time_unix_nano:
        return f"span {name!r}: needs a start time, and an end time not before it"
    return None


def _with_events(span: Any) -> dict[str, Any]:
    """The span's attributes, with those of its content event (for what the span itself does not say)."""
    attrs = attributes(span.attributes)
    for event in span.events:
        if event.name == CONTENT_EVENT:
            for key, v in attributes(event.attributes).items():
                attrs.setdefault(key, v)
    return attrs


def _inherited(span: Any, by_id: Mapping[bytes, Any], span_attrs: Mapping[bytes, dict[str, Any]],
               resource: Mapping[str, Any]) -> dict[str, str]:  # fmt: skip
    """The user attributes of the span's ancestors in this export (the nearest wins), then of the resource."""
    found = dialects.user_attributes(resource)
    chain: list[dict[str, str]] = []
    parent, seen = span.parent_span_id, set()
    while parent in by_id and parent not in seen:
        seen.add(parent)
        chain.append(dialects.user_attributes(span_attrs[parent]))
        parent = by_id[parent].parent_span_id
    for attrs in reversed(chain):
        found.update(attrs)
    return found


def _error(span: Any, attrs: Mapping[str, Any]) -> SpanError | None:
    if span.status.code != _STATUS_ERROR:
        return None
    exception = next((attributes(e.attributes) for e in span.events if e.name == "exception"), {})
    given = str(exception.get("exception.type") or attrs.get("error.type") or "Error")
    # "openai.RateLimitError", or the class's repr as some instrumentations write it: "<class 'openai.X'>"
    error_type = given.removeprefix("<class '").removesuffix("'>").rsplit(".", 1)[-1]
    message = str(exception.get("exception.message") or span.status.message or "the span's status is ERROR")
    status = attrs.get("http.response.status_code", attrs.get("http.status_code"))
    return SpanError(message, error_type, status if isinstance(status, int) else None)


def _ts(unix_ns: int) -> datetime:
    return datetime.fromtimestamp(unix_ns // 1_000_000_000, UTC).replace(microsecond=unix_ns // 1000 % 1_000_000)


def _parent(span: Any) -> str | None:
    return span.parent_span_id.hex() if span.parent_span_id else None


def _call(span: Any, attrs: Mapping[str, Any], inherited: Mapping[str, str]) -> CallEvent:
    llm = dialects.read(attrs)
    request: dict[str, Any] = {"model": llm.model or llm.response_model or "unknown", **llm.params}
    if llm.messages is not None:
        request["messages"] = llm.messages
    if llm.system is not None:
        request["system"] = llm.system
    if llm.tools is not None:
        request["tools"] = llm.tools
    if llm.stream:
        request["stream"] = True
    response = {
        "id": llm.response_id, "model": llm.response_model, "output_text": llm.output_text,
        "tool_calls": llm.tool_calls, "finish_reason": llm.finish_reason, "usage": llm.usage or None,
    }  # fmt: skip
    first_token = span.start_time_unix_nano + round(llm.ttft_s * 1e9) if llm.ttft_s is not None else None
    if first_token is None:  # OpenInference marks the first streamed token with an event
        first_token = next((e.time_unix_nano for e in span.events if e.name.lower() == FIRST_TOKEN_EVENT), None)
    metadata = {**llm.metadata, "otlp.span_name": span.name}
    return CallEvent(
        kind="otlp", call_id=span.span_id.hex(), trace_id=span.trace_id.hex(), parent_id=_parent(span),
        ts=_ts(span.start_time_unix_nano), start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
        first_token_ns=first_token, request=request, provider=llm.provider or "unknown", response=response,
        error=_error(span, attrs), source="otlp",
        attrs={**inherited, **llm.attrs, "metadata": metadata, **({"tags": llm.tags} if llm.tags else {})},
    )  # fmt: skip


def _span(span: Any, attrs: Mapping[str, Any], inherited: Mapping[str, str]) -> Span:
    kind = str(attrs.get("openinference.span.kind") or attrs.get("traceloop.span.kind") or "").lower()
    error = _error(span, attrs)
    own = dialects.user_attributes(attrs)
    people = {**inherited, **own}
    used = {key for name in dialects.USER_ATTRIBUTES for key in dialects.KEYS[name] if key in attrs}
    used |= {"input.value", "output.value", "traceloop.entity.input", "traceloop.entity.output"}
    metadata = {k: v for k, v in attrs.items() if k not in used and k not in {"openinference.span.kind",
                                                                               "traceloop.span.kind"}}  # fmt: skip
    return Span(
        id=span.span_id.hex(), trace_id=span.trace_id.hex(), name=span.name or "span", parent_id=_parent(span),
        start_ts=_ts(span.start_time_unix_nano), end_ts=_ts(span.end_time_unix_nano),
        latency_ms=round((span.end_time_unix_nano - span.start_time_unix_nano) / 1_000_000),
        kind=_SPAN_KINDS.get(kind, "span"), status="error" if error else "ok",
        error=f"{error.error_type}: {error}" if error else None,
        input=json_value(attrs.get("input.value", attrs.get("traceloop.entity.input"))),
        output=json_value(attrs.get("output.value", attrs.get("traceloop.entity.output"))),
        metadata=metadata or None, user_id=people.get("user_id"), session_id=people.get("session_id"),
        tenant_id=people.get("tenant_id"), feature=people.get("feature"),
    )  # fmt: skip
