"""litellm (and what calls it, such as dspy): calls recorded through litellm's own callback API.

``litellm.callbacks = [obs.litellm_callback()]``. litellm runs success callbacks on a thread pool or in a logging
task, where the caller's trace context is gone (litellm 1.110.2: a sync stream's success callback runs on a pool
thread with an empty context). So the caller's side is read when litellm announces the provider request
(``log_pre_api_call``, on the caller's thread, in its context or a copy of it): the trace context and a
snapshot of the request body, kept by litellm's call id until the call succeeds or fails. litellm returns
OpenAI-format objects, so the events are read by the openai extractors (kind ``chat`` / ``embeddings``).

This module imports litellm: ``obs.sdk.litellm_callback`` imports it only when asked for a callback.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# litellm fetches its model cost map from GitHub when imported unless told not to: obs never downloads at run time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from litellm.integrations.custom_logger import CustomLogger
from openai.types import CreateEmbeddingResponse, Embedding

from obs.capture import stainless
from obs.capture.context import current, outer_call
from obs.capture.events import CallEvent, Kind
from obs.capture.recording import safely
from obs.records import new_span_id, new_trace_id
from obs.serialize import snapshot

#: litellm call types obs records, and the provider API their (OpenAI-format) results are read as.
KINDS: Mapping[str, Kind] = {
    "completion": "chat",
    "acompletion": "chat",
    "embedding": "embeddings",
    "aembedding": "embeddings",
}
#: Calls announced but never finished (a stream dropped unread) are forgotten past this many.
_PENDING_LIMIT = 10_000
#: Keys of litellm's request dict that are openai SDK options, not part of the body the provider gets.
_SDK_OPTIONS = frozenset({"extra_body", "extra_query"})
#: The request content litellm hands a client method as it announced it (``**complete_input_dict``).
_CONTENT_KEYS = ("messages", "input")


@dataclass(slots=True)
class _Pending:
    """What the caller's side of one litellm call captured: ids, trace context, the request as sent."""

    call_id: str
    trace_id: str
    parent_id: str | None
    attrs: Mapping[str, Any]
    request: dict[str, Any]


class _Sending:
    """The request content litellm is sending right now, so that a wrapped client it sends it through does not
    record the call a second time (``stainless.recorded_elsewhere``).

    Matched by identity: litellm passes the client method the very objects it announced in ``log_pre_api_call``.
    Identity, not a contextvar, because litellm announces an async embedding on an executor thread, in a copy
    of the context the request is then made in."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, objects: tuple[Any, ...]) -> None:
        with self._lock:
            self._objects[key] = objects
            if len(self._objects) > _PENDING_LIMIT:
                del self._objects[next(iter(self._objects))]

    def discard(self, key: str) -> None:
        with self._lock:
            self._objects.pop(key, None)

    def claims(self, kwargs: Mapping[str, Any]) -> bool:
        """Whether a wrapped method's arguments are a request litellm is sending (and this module records)."""
        if not self._objects:
            return False
        given = [value for key in _CONTENT_KEYS if (value := kwargs.get(key)) is not None]
        with self._lock:
            return any(value is sent for objects in self._objects.values() for sent in objects for value in given)


_sending = _Sending()


class ObsLogger(CustomLogger):
    """litellm callback: every completion and embedding (sync, async, streamed, failed) becomes a CallEvent."""

    def __init__(self, enqueue: Callable[[CallEvent], None]) -> None:
        super().__init__()
        self._enqueue = enqueue
        self._pending: collections.OrderedDict[str, _Pending] = collections.OrderedDict()
        self._lock = threading.Lock()

    # --- litellm's hooks: each one's work is wrapped, so that recording never breaks the call ---------------

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        safely(self._announced, kwargs)

    def log_post_api_call(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        safely(self._sent, kwargs)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        safely(self._finished, kwargs, response_obj, start_time, end_time, None)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        safely(self._finished, kwargs, None, start_time, end_time, _exception(kwargs))

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        safely(self._finished, kwargs, response_obj, start_time, end_time, None)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        safely(self._finished, kwargs, None, start_time, end_time, _exception(kwargs))

    # --- the caller's side ----------------------------------------------------------------------------------

    def _announced(self, kwargs: Mapping[str, Any]) -> None:
        """litellm is about to send the provider request: keep the trace context and the request as sent."""
        key = kwargs.get("litellm_call_id")
        if not isinstance(key, str) or _kind(kwargs) is None:
            return
        body = (kwargs.get("additional_args") or {}).get("complete_input_dict")
        request = _request(body, kwargs)
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:  # litellm sent it again (a retry): the context stays, the request is the last
                pending.request = request
            else:
                self._pending[key] = _pending_here(request)
                if len(self._pending) > _PENDING_LIMIT:
                    self._pending.popitem(last=False)
        if isinstance(body, Mapping):
            _sending.add(key, tuple(body[k] for k in _CONTENT_KEYS if body.get(k) is not None))
        outer = outer_call.get()
        if outer is not None:  # a dspy LM call through litellm: this record, the exact body, is the one kept
            outer.recorded_inside = True

    def _sent(self, kwargs: Mapping[str, Any]) -> None:
        key = kwargs.get("litellm_call_id")
        if isinstance(key, str):
            _sending.discard(key)

    # --- the finished call (on litellm's logging thread or task) --------------------------------------------

    def _finished(
        self,
        kwargs: Mapping[str, Any],
        response: Any,
        start_time: datetime,
        end_time: datetime,
        error: BaseException | None,
    ) -> None:
        key = kwargs.get("litellm_call_id")
        if isinstance(key, str):
            _sending.discard(key)
            with self._lock:
                pending = self._pending.pop(key, None)
        else:
            pending = None
        kind = _kind(kwargs)
        if kind is None or kwargs.get("cache_hit"):
            return  # another API, or an answer from litellm's cache: no provider call was made
        if pending is None:
            # Not announced (it failed before the request was sent): this hook runs on the caller's side then.
            pending = _pending_here(_request(None, kwargs))
        stream = bool(kwargs.get("stream"))
        if stream and error is None:
            response = kwargs.get("complete_streaming_response") or response
        first_token = kwargs.get("completion_start_time") if stream else None
        self._enqueue(
            CallEvent(
                kind=kind,
                call_id=pending.call_id,
                trace_id=pending.trace_id,
                parent_id=pending.parent_id,
                ts=_utc(start_time),
                start_ns=_ns(start_time),
                end_ns=_ns(end_time),
                first_token_ns=_ns(first_token) if isinstance(first_token, datetime) and error is None else None,
                request=pending.request,
                provider=str(kwargs.get("custom_llm_provider") or "unknown"),
                response=_embeddings(response) if kind == "embeddings" and error is None else response,
                error=error,
                attrs=pending.attrs,
            )
        )


@functools.cache
def callback(enqueue: Callable[[CallEvent], None]) -> ObsLogger:
    """The process's litellm callback (one, so that adding it twice cannot record a call twice)."""
    if _sending.claims not in stainless.recorded_elsewhere:
        stainless.recorded_elsewhere.append(_sending.claims)
    return ObsLogger(enqueue)


# --- pure helpers ----------------------------------------------------------------------------------------


def _kind(kwargs: Mapping[str, Any]) -> Kind | None:
    call_type = kwargs.get("call_type")
    return KINDS.get(str(getattr(call_type, "value", call_type)))


def _pending_here(request: dict[str, Any]) -> _Pending:
    """Ids and attributes from the trace context of the calling code (``current()``), as a wrapped client does."""
    ctx = current()
    return _Pending(
        call_id=new_span_id(),
        trace_id=ctx.trace_id if ctx else new_trace_id(),
        parent_id=ctx.span_id if ctx else None,
        attrs=dict(ctx.attrs) if ctx else {},
        request=request,
    )


def _request(body: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request the provider got: litellm's body for it (``extra_body`` merged in, as the openai SDK does),
    else, when litellm did not get that far, the model and the content with litellm's optional params."""
    if isinstance(body, Mapping):
        request = {k: v for k, v in body.items() if k not in _SDK_OPTIONS}
        extra = body.get("extra_body")
        if isinstance(extra, Mapping):
            request.update(extra)
    else:
        content = "input" if _kind(kwargs) == "embeddings" else "messages"
        optional = kwargs.get("optional_params")
        request = {
            "model": kwargs.get("model"),
            content: kwargs.get(content),
            **{k: v for k, v in (optional if isinstance(optional, Mapping) else {}).items() if k not in _SDK_OPTIONS},
        }
    result = snapshot(request)
    return result if isinstance(result, dict) else {}


def _exception(kwargs: Mapping[str, Any]) -> BaseException | None:
    error = kwargs.get("exception")
    return error if isinstance(error, BaseException) else None


def _embeddings(response: Any) -> Any:
    """litellm's EmbeddingResponse holds its items as dicts; the openai extractor reads the SDK's objects."""
    data = getattr(response, "data", None)
    if response is None or not isinstance(data, list):
        return response
    return CreateEmbeddingResponse.model_construct(
        object=getattr(response, "object", "list"),
        model=getattr(response, "model", None),
        data=[Embedding.model_construct(**item) if isinstance(item, Mapping) else item for item in data],
        usage=getattr(response, "usage", None),
    )


def _utc(when: datetime) -> datetime:
    """litellm's times are naive local datetimes."""
    return when.astimezone(UTC)


def _ns(when: datetime) -> int:
    return round(when.timestamp() * 1_000_000) * 1_000
