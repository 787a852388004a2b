"""The values every capture source produces: a ``CallEvent`` per provider call, and the ``Output`` read from it.

An adapter's caller-side code builds the event (cheap: a snapshot of the request, the response object or the
streamed chunks, the exception, timings and context); its pure extractors read an ``Output`` from it on the
writer thread. No provider-specific code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from obs.pricing.prices import Usage

#: The provider API a call used; it picks how the call is read (see ``obs.capture.build.APIS``).
Kind = Literal["chat", "responses", "embeddings", "messages", "otlp"]


@dataclass(slots=True)
class CallEvent:
    """What the caller's thread captured about one provider call (cheap to build, processed later)."""

    kind: Kind
    call_id: str
    trace_id: str
    parent_id: str | None
    ts: datetime
    start_ns: int
    request: dict[str, Any]
    provider: str = "openai"
    end_ns: int = 0
    first_token_ns: int | None = None
    response: Any = None
    chunks: list[Any] | None = None
    error: BaseException | None = None
    stream_abandoned: bool = False
    attrs: Mapping[str, Any] = field(default_factory=dict)
    source: str = "sdk"
    replay_of: str | None = None
    #: The JSON body the client sent (then ``request`` holds only the arguments that are not in it).
    request_body: bytes | None = None
    #: The JSON body of the provider's response, when the client read one (not for streams).
    response_body: bytes | None = None
    #: obs asked for streamed usage the caller did not ask for (it is not part of the recorded request).
    usage_added: bool = False
    #: The server-sent events of a stream as they were relayed (the proxy); read into ``chunks`` by the writer.
    stream_body: bytes | None = None


@dataclass(slots=True)
class Output:
    """What a response (whole or assembled from a stream) tells us."""

    response: Any = None
    output_text: str | None = None
    tool_calls: Any = None
    finish_reason: str | None = None
    response_model: str | None = None
    refusal: str | None = None
    usage: Usage | None = None
