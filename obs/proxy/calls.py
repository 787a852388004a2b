"""The recording side of one proxied call: its event, the stream it relays, and the error an answer stands for.

Everything here runs on the proxy's event loop and is cheap (appends and a few byte searches); the writer
thread reads the bodies into a record later (``obs.capture.build``).
"""

from __future__ import annotations

from typing import Any

import orjson

from obs import clock
from obs.capture import sse
from obs.capture.events import CallEvent, Kind
from obs.capture.recording import has_first_token, is_usage_only
from obs.proxy.routes import CallContext
from obs.records import new_span_id, new_trace_id

#: The SDKs' names for an HTTP error status, so a proxied call's ``error_type`` reads like a wrapped client's.
_STATUS_ERRORS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 413: "RequestTooLargeError",
                  422: "UnprocessableEntityError", 429: "RateLimitError", 529: "OverloadedError"}  # fmt: skip


class UpstreamError(Exception):
    """What the upstream answered instead of a result (an HTTP error status), or why it did not answer."""

    def __init__(self, message: str, error_type: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status_code = status_code


def status_error(status: int, body: bytes) -> UpstreamError:
    """The error an HTTP error answer stands for, its message read from the body when it is the APIs' JSON."""
    name = _STATUS_ERRORS.get(status) or ("InternalServerError" if status >= 500 else "APIStatusError")
    message = body[:500].decode("utf-8", errors="replace")
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
    return UpstreamError(message or f"HTTP {status}", name, status)


def new_event(kind: Kind, provider: str, context: CallContext, body: bytes) -> CallEvent:
    """The event of a call that starts now, with the body the client sent (stored as it came)."""
    return CallEvent(
        kind=kind, call_id=new_span_id(), trace_id=context.trace_id or new_trace_id(), parent_id=context.parent_id,
        ts=clock.now(), start_ns=clock.perf_ns(), request={}, provider=provider, attrs=context.attrs,
        source="proxy", request_body=body,
    )  # fmt: skip


def with_stream_usage(body: bytes) -> bytes | None:
    """A chat request that streams, asking for the usage chunk it did not ask for; None when the request does not
    stream, already says, or cannot be read (then it goes as it came)."""
    if b'"stream"' not in body:  # most calls: no need to read the body here
        return None
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or request.get("stream") is not True:
        return None
    options = request.get("stream_options")
    if options is not None and (not isinstance(options, dict) or "include_usage" in options):
        return None
    request["stream_options"] = {**(options or {}), "include_usage": True}
    return orjson.dumps(request)


class StreamWatch:
    """What the proxy keeps of a stream it relays: every byte (the writer reads the events from them), the time the
    first token went by and, when obs asked for the usage the client did not, that usage event held back."""

    __slots__ = ("_events", "_hide_usage", "first_token_ns", "parts")

    def __init__(self, *, hide_usage: bool) -> None:
        self.parts: list[bytes] = []
        self.first_token_ns: int | None = None
        self._hide_usage = hide_usage
        self._events = sse.Events()

    def relay(self, piece: bytes) -> bytes:
        """Keep a piece of the stream; what the client gets of it (all of it, unless usage is held back: then
        the whole events it completes, without the usage event)."""
        self.parts.append(piece)
        if not self._hide_usage:
            if self.first_token_ns is None:
                self._first_token(self._events.feed(piece))
            return piece
        events = self._events.feed(piece)
        if self.first_token_ns is None:
            self._first_token(events)
        return b"".join(event for event in events if not _usage_only(event))

    def rest(self) -> bytes:
        """What is still held when the stream ends: an event cut short (when events are being cut)."""
        return self._events.rest() if self._hide_usage else b""

    def body(self) -> bytes:
        return b"".join(self.parts)

    def _first_token(self, events: list[bytes]) -> None:
        for event in events:
            value = sse.parsed(event)
            if value is not None and has_first_token(value):
                self.first_token_ns = clock.perf_ns()
                return


def _usage_only(event: bytes) -> bool:
    if b'"usage"' not in event or b'"usage":null' in event:
        return False
    value: Any = sse.parsed(event)
    return value is not None and is_usage_only(value)
