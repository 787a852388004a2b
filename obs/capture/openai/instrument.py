"""``obs.wrap(client)``: record every call an OpenAI client makes without changing what it returns or raises.

Which methods are wrapped is data (``METHODS``); one sync and one async wrapper serve them all. On the caller's
thread a ``recording.RecordedCall`` snapshots the request, stamps ids and times, and enqueues; everything else
happens in the writer.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from obs.capture.events import CallEvent, Kind
from obs.capture.openai.recording import OBS_KWARG, RecordedCall, safely

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class MethodDef:
    """A client method obs records: where it lives on the client and how to read its result."""

    path: tuple[str, ...]
    name: str
    kind: Kind


METHODS = (
    MethodDef(("chat", "completions"), "create", "chat"),
    MethodDef(("chat", "completions"), "parse", "chat"),
    MethodDef(("responses",), "create", "responses"),
    MethodDef(("responses",), "parse", "responses"),
    MethodDef(("embeddings",), "create", "embeddings"),
    # client.beta.chat is a Chat resource of its own (LangChain's structured output streams through it).
    MethodDef(("beta", "chat", "completions"), "create", "chat"),
    MethodDef(("beta", "chat", "completions"), "parse", "chat"),
    MethodDef(("beta", "responses"), "create", "responses"),
    MethodDef(("beta", "responses"), "parse", "responses"),
)

_WRAPPED = "__obs_wrapped__"


def wrap(client: C, enqueue: Callable[[CallEvent], None]) -> C:
    """Record the calls of an OpenAI / AsyncOpenAI / Azure client (the same object is returned)."""
    if getattr(client, _WRAPPED, False):
        return client
    provider = "azure" if "azure" in type(client).__name__.lower() else "openai"
    for definition in METHODS:
        resource: Any = client
        try:
            for attribute in definition.path:
                resource = getattr(resource, attribute)
            method = getattr(resource, definition.name)
        except AttributeError:
            continue  # an older or trimmed client without this method
        setattr(resource, definition.name, _wrapper(method, definition, provider, enqueue))
    _watch_http(client)
    _wrap_copies(client, enqueue)
    setattr(client, _WRAPPED, True)
    return client


#: The recorded call in progress in this thread or task; the client's HTTP ``send`` reports to it.
_active: contextvars.ContextVar[RecordedCall | None] = contextvars.ContextVar("obs_active_call", default=None)
_WATCHED = "__obs_watched__"


def _watch_http(client: Any) -> None:
    """Let the recorded call see the request body the client sends and the response body it reads.

    The body the client sent is the exact request (and costs nothing to keep), and the body it read is the exact
    response: stored as it is, so neither needs to be copied or serialized on the caller's thread.
    """
    http: Any = getattr(client, "_client", None)
    send = getattr(http, "send", None)
    if send is None or getattr(http, _WATCHED, False):
        return
    if inspect.iscoroutinefunction(send):

        async def watched_async(request: Any, *args: Any, **kwargs: Any) -> Any:
            response = await send(request, *args, **kwargs)
            call = _active.get()
            if call is not None:
                call.http = (request, response)
            return response

        watched: Callable[..., Any] = watched_async
    else:

        def watched_sync(request: Any, *args: Any, **kwargs: Any) -> Any:
            response = send(request, *args, **kwargs)
            call = _active.get()
            if call is not None:
                call.http = (request, response)
            return response

        watched = watched_sync
    try:
        http.send = watched
        setattr(http, _WATCHED, True)
    except (AttributeError, TypeError):  # a client we cannot patch is still recorded, from its objects
        pass


def _wrap_copies(client: Any, enqueue: Callable[[CallEvent], None]) -> None:
    """``client.with_options(...)`` / ``client.copy(...)`` return clients that are recorded too."""
    for name in ("copy", "with_options"):
        original = getattr(client, name, None)
        if callable(original):

            def copying(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
                return wrap(__original(*args, **kwargs), enqueue)

            setattr(client, name, copying)


def _wrapper(
    method: Callable[..., Any], definition: MethodDef, provider: str, enqueue: Callable[[CallEvent], None]
) -> Callable[..., Any]:
    @functools.wraps(method)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        try:
            call = RecordedCall(definition.kind, provider, dict(kwargs), enqueue)
        except Exception:  # recording must never break the call
            kwargs.pop(OBS_KWARG, None)
            return method(*args, **kwargs)
        token = _active.set(call)
        try:
            result = method(*args, **call.kwargs)
        except BaseException as exc:
            safely(call.sent)
            safely(call.finish, None, exc)
            raise
        finally:
            _active.reset(token)
        if isinstance(result, Awaitable):  # AsyncOpenAI: the call happens when the caller awaits
            return _awaited(call, result)
        try:  # noqa: SIM105 - see RecordedCall.finish
            call.sent()
        except Exception:  # recording must never break the call
            pass
        return _returned(call, result)

    return recorded


async def _awaited(call: RecordedCall, pending: Any) -> Any:
    token = _active.set(call)
    try:
        result = await pending
    except BaseException as exc:
        safely(call.sent)
        safely(call.finish, None, exc)
        raise
    finally:
        _active.reset(token)
    safely(call.sent)
    return _returned(call, result)


def _returned(call: RecordedCall, result: Any) -> Any:
    try:
        return call.returned(result)
    except Exception:
        return result
