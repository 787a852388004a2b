"""``obs.wrap(Anthropic())``: record every Messages API call an Anthropic client makes, unchanged for the app.

``messages.create`` (whole, ``stream=True``, raw and streaming responses) and ``messages.parse`` go through the
shared Stainless wrapper (``METHODS``). The ``messages.stream()`` helper posts by itself, when its manager is
entered: the request it will send is recorded then, its raw event stream followed like a streamed ``create``.
``messages.count_tokens`` and the batches are left alone (no model output, nothing billed as a call).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from obs import clock
from obs.capture import stainless
from obs.capture.events import CallEvent
from obs.capture.recording import OBS_KWARG, RecordedCall, safely
from obs.capture.stainless import MethodDef

C = TypeVar("C")
PROVIDER = "anthropic"

METHODS = (
    MethodDef(("messages",), "create", "messages"),
    MethodDef(("messages",), "parse", "messages"),  # structured output: it posts by itself, not through create
    MethodDef(("beta", "messages"), "create", "messages"),
    MethodDef(("beta", "messages"), "parse", "messages"),
)
#: Where the stream helpers live (``client.beta.messages.stream`` is the beta twin).
_STREAM_HELPERS = (("messages",), ("beta", "messages"))


def wrap(client: C, enqueue: Callable[[CallEvent], None]) -> C:
    """Record the calls of an Anthropic / AsyncAnthropic client (the same object is returned)."""
    if getattr(client, stainless.WRAPPED, False):
        return client
    for path in _STREAM_HELPERS:
        resource: Any = client
        try:
            for attribute in path:
                resource = getattr(resource, attribute)
            helper = resource.stream
        except AttributeError:
            continue
        resource.stream = _stream_helper(helper, enqueue)
    wrapped: C = stainless.wrap(client, enqueue, METHODS, PROVIDER, rewrap=wrap)
    return wrapped


def _stream_helper(helper: Callable[..., Any], enqueue: Callable[[CallEvent], None]) -> Callable[..., Any]:
    @functools.wraps(helper)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        try:
            call = RecordedCall("messages", PROVIDER, dict(kwargs), enqueue)
        except Exception:  # recording must never break the call
            kwargs.pop(OBS_KWARG, None)
            return helper(*args, **kwargs)
        manager = helper(*args, **call.kwargs)
        safely(_follow, manager, call)  # a manager of another shape is returned unrecorded
        return manager

    return recorded


def _follow(manager: Any, call: RecordedCall) -> None:
    """Let the manager's request, sent when it is entered, be recorded as ``call``: a streamed create."""
    name = next(n for n in vars(manager) if n.endswith("__api_request"))  # MessageStreamManager's private request
    request = getattr(manager, name)
    call.kwargs["stream"] = True  # what the helper sends (and how its result is read)
    if callable(request):

        def send() -> Any:
            _restamp(call)
            return stainless.run(call, request, (), {})

        setattr(manager, name, send)
    else:  # AsyncMessageStreamManager holds the coroutine it will await

        async def send_async() -> Any:
            _restamp(call)
            return await stainless.awaited(call, request)

        setattr(manager, name, send_async())


def _restamp(call: RecordedCall) -> None:
    """The call starts when the request is sent, not when the helper was called."""
    call.event.ts = clock.now()
    call.event.start_ns = clock.perf_ns()
