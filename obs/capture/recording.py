"""One recorded call on the caller's thread: the ``CallEvent`` it fills in, and the stream proxies that collect
the chunks a streamed call yields.

``stainless`` starts a ``RecordedCall`` when a wrapped method is called; the call snapshots the request,
stamps ids and times, and enqueues its event when the method returns, raises, or its stream ends.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

from obs import clock, config
from obs.capture.context import ATTRIBUTES, current, merged_attrs
from obs.capture.events import CallEvent, Kind
from obs.capture.fields import get
from obs.records import new_span_id, new_trace_id
from obs.serialize import snapshot

#: The keyword a call can carry obs attributes in; it is removed before the provider sees the request.
OBS_KWARG = "obs"
_ID_KEYS = ("trace_id", "parent_id")
#: Keys that say what kind of record a call is (a replay sets its own id, ``source`` and ``replay_of``).
_RECORD_KEYS = ("call_id", "source", "replay_of")
#: Arguments of a client method that are not part of the JSON body it sends.
_NOT_IN_BODY = frozenset({"extra_headers", "extra_query", "timeout"})
_NOTHING: Mapping[str, Any] = {}


class ResponseIds:
    """Provider response ids -> obs call ids, so ``parent_id=response.id`` (the seed guide's pattern) links."""

    def __init__(self, size: int = config.RESPONSE_ID_MEMORY) -> None:
        self._ids: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, response_id: Any, call_id: str) -> None:
        if isinstance(response_id, str) and response_id:
            with self._lock:
                self._ids[response_id] = call_id
                if len(self._ids) > self._size:
                    self._ids.popitem(last=False)

    def resolve(self, some_id: str | None) -> str | None:
        if some_id is None:
            return None
        return self._ids.get(some_id, some_id)


response_ids = ResponseIds()


# --- one call --------------------------------------------------------------------------------------


class RecordedCall:
    """The caller-thread side of one recorded call."""

    __slots__ = ("done", "enqueue", "event", "http", "kwargs", "parsed")

    def __init__(
        self,
        kind: Kind,
        provider: str,
        kwargs: dict[str, Any],
        enqueue: Callable[[CallEvent], None],
    ) -> None:
        given = kwargs.pop(OBS_KWARG, None) or _NOTHING
        ctx = current()
        trace_id = given.get("trace_id") or (ctx.trace_id if ctx else None)
        parent_id = response_ids.resolve(given.get("parent_id")) or (
            ctx.span_id if ctx and ctx.trace_id == trace_id else None
        )
        call_id = given.get("call_id") or new_span_id()
        inherited = ctx.attrs if ctx and ctx.trace_id == trace_id else _NOTHING
        attrs = merged_attrs(inherited, _attrs(given)) if given else dict(inherited)
        self.enqueue = enqueue
        self.event = CallEvent(
            kind=kind,
            call_id=call_id,
            trace_id=trace_id or new_trace_id(),
            parent_id=parent_id,
            ts=clock.now(),
            start_ns=clock.perf_ns(),
            request=kwargs,  # replaced by a snapshot (or the request body as sent) when the method returns
            provider=provider,
            attrs=attrs,
            source=given.get("source") or "sdk",
            replay_of=given.get("replay_of"),
        )
        #: (httpx request, httpx response) of the last attempt, seen by the client's ``send`` (stainless._watch_http).
        self.http: tuple[Any, Any] | None = None
        if kind == "chat" and kwargs.get("stream") and config.REQUEST_STREAM_USAGE:
            options = kwargs.get("stream_options")
            if not (isinstance(options, Mapping) and "include_usage" in options):
                kwargs["stream_options"] = {**(options or {}), "include_usage": True}
                self.event.usage_added = True
        self.kwargs = kwargs
        self.done = False
        #: What ``parse()`` of a raw response gave the caller (``_watch_raw``), so a second call gives it again.
        self.parsed: tuple[Any, Any] | None = None

    def sent(self) -> None:
        """The method returned or raised: keep the request as the provider got it (the JSON body the client
        sent, when we saw it: an immutable snapshot for free) or else a snapshot of the arguments, before the
        caller can change them."""
        event = self.event
        body = getattr(self.http[0], "content", None) if self.http is not None else None
        if isinstance(body, bytes) and body[:1] == b"{":
            event.request_body = body
            event.request = {k: snapshot(v) for k, v in self.kwargs.items() if k in _NOT_IN_BODY}
        else:
            event.request = snapshot(event.request)

    def finish(self, response: Any = None, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        event = self.event
        event.end_ns = clock.perf_ns()
        if event.chunks is None and self.http is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs ~1 us on the caller's thread
                event.response_body = self.http[1].content
            except Exception:  # a body not read (streamed) stays unread
                pass
        if event.response_body is None or event.kind == "embeddings" or not isinstance(response, pydantic.BaseModel):
            # Else the writer reads the body the objects were parsed from: the queue then holds bytes, not the
            # SDK's object tree (~20 objects a call that the garbage collector would walk while they wait).
            event.response = response
        event.error = error
        if response is not None:
            response_ids.remember(getattr(response, "id", None), event.call_id)
        self.enqueue(event)

    def returned(self, result: Any) -> Any:
        if _is_raw(result):
            return _watch_raw(result, self)
        if self.kwargs.get("stream"):
            if hasattr(result, "__aiter__"):
                return AsyncRecordedStream(result, self)
            if hasattr(result, "__iter__"):
                return RecordedStream(result, self)
        self.finish(result)
        return result


def _is_raw(result: Any) -> bool:
    """``with_raw_response`` / ``with_streaming_response``: the SDK's response wrapper, parsed on demand.

    A model is never one; asking it first keeps a missed attribute lookup on pydantic (~5 us) off the hot path."""
    return (
        not isinstance(result, pydantic.BaseModel)
        and hasattr(result, "http_response")
        and callable(getattr(result, "parse", None))
    )


def _watch_raw(raw: Any, call: RecordedCall) -> Any:
    """Record a raw response from what its ``parse()`` gives the caller: the parsed object, or the stream, whose
    proxy records it when it ends. A body already read (``with_raw_response``) is recorded at once; one closed
    unparsed (the caller read the bytes itself, or nothing) is recorded without an output."""
    if raw.http_response.is_closed and not call.kwargs.get("stream"):
        call.finish(None)  # the writer reads the body the client read
        return raw
    parse = raw.parse
    close = getattr(raw, "close", None)  # the legacy with_raw_response has none
    if inspect.iscoroutinefunction(parse):

        async def parse_async(*args: Any, **kwargs: Any) -> Any:
            return _raw_parsed(call, await parse(*args, **kwargs))

        raw.parse = parse_async
        if close is not None:

            async def close_async() -> None:
                try:
                    await close()
                finally:
                    _raw_closed(call)

            raw.close = close_async
    else:

        def parse_sync(*args: Any, **kwargs: Any) -> Any:
            return _raw_parsed(call, parse(*args, **kwargs))

        raw.parse = parse_sync
        if close is not None:

            def close_sync() -> None:
                try:
                    close()
                finally:
                    _raw_closed(call)

            raw.close = close_sync
    return raw


def _raw_parsed(call: RecordedCall, parsed: Any) -> Any:
    try:
        if call.parsed is not None and call.parsed[0] is parsed:
            return call.parsed[1]  # the SDK caches what it parsed: so do we
        given = call.returned(parsed)
        call.parsed = (parsed, given)
        return given
    except Exception:  # recording must never break the call
        return parsed


def _raw_closed(call: RecordedCall) -> None:
    stream = call.parsed[1] if call.parsed is not None else None
    if isinstance(stream, _StreamRecording):
        stream._finish(abandoned=True)  # a no-op when the stream ended
    else:
        safely(call.finish, None)  # a no-op when the call was recorded


def _attrs(given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(given) - set(ATTRIBUTES) - set(_ID_KEYS) - set(_RECORD_KEYS)
    attrs = {k: v for k, v in given.items() if k in ATTRIBUTES}
    if unknown:
        attrs["metadata"] = {**(attrs.get("metadata") or {}), **{k: given[k] for k in unknown}}
    return attrs


def safely(func: Callable[..., Any], *args: Any) -> None:
    """Call ``func``, ignoring what it raises: recording must never break the call."""
    with contextlib.suppress(Exception):
        func(*args)


# --- streams -----------------------------------------------------------------------------------------


def is_usage_only(chunk: Any) -> bool:
    """The chunk of a chat stream that carries only the usage (asked for with ``stream_options.include_usage``)."""
    return get(chunk, "usage") is not None and not get(chunk, "choices")


#: Stream events that carry the first generated output: text, a refusal, a tool call's arguments (Responses
#: API), or any content block delta, thinking included (Anthropic's Messages API).
_FIRST_TOKEN_EVENTS = frozenset(
    {
        "content_block_delta",
        "response.output_text.delta",
        "response.refusal.delta",
        "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta",
        "response.audio.delta",
        "response.audio.transcript.delta",
    }
)


def has_first_token(chunk: Any) -> bool:
    """A stream's chunk or event (an SDK object or its JSON object) carries generated output."""
    for choice in get(chunk, "choices") or ():
        delta = get(choice, "delta")
        if delta is not None and (get(delta, "content") or get(delta, "tool_calls") or get(delta, "refusal")):
            return True
    return get(chunk, "type") in _FIRST_TOKEN_EVENTS


class _StreamRecording:
    """Shared bookkeeping of the sync and async stream proxies."""

    def __init__(self, stream: Any, call: RecordedCall) -> None:
        self._stream = stream
        self._call = call
        self._chunks: list[Any] = []
        self._finished = False
        call.event.chunks = self._chunks

    def _seen(self, chunk: Any) -> bool:
        """Record a chunk; False when the caller must not see it (usage it did not ask for)."""
        event = self._call.event
        if event.first_token_ns is None and has_first_token(chunk):
            event.first_token_ns = clock.perf_ns()
        self._chunks.append(chunk)
        return not (self._call.event.usage_added and is_usage_only(chunk))

    def _finish(self, error: BaseException | None = None, abandoned: bool = False) -> None:
        if self._finished:
            return
        self._finished = True
        event = self._call.event
        event.stream_abandoned = abandoned
        if self._chunks:
            response_ids.remember(getattr(self._chunks[0], "id", None), event.call_id)
        safely(self._call.finish, None, error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            self._finish(abandoned=True)


class RecordedStream(_StreamRecording):
    """Yields exactly the chunks the caller would have seen; records the call when the stream ends."""

    def __iter__(self) -> RecordedStream:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                chunk = next(self._stream)
            except StopIteration:
                self._finish()
                raise
            except BaseException as exc:
                self._finish(exc)
                raise
            if self._seen(chunk):
                return chunk

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish(abandoned=True)

    def __enter__(self) -> RecordedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class AsyncRecordedStream(_StreamRecording):
    """The async twin of RecordedStream."""

    def __aiter__(self) -> AsyncRecordedStream:
        return self

    async def __anext__(self) -> Any:
        while True:
            try:
                chunk = await self._stream.__anext__()
            except StopAsyncIteration:
                self._finish()
                raise
            except BaseException as exc:
                self._finish(exc)
                raise
            if self._seen(chunk):
                return chunk

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            self._finish(abandoned=True)

    async def __aenter__(self) -> AsyncRecordedStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()
