"""dspy: LM calls recorded through dspy's callback API, whatever engine sends them.

``dspy.configure(callbacks=[obs.dspy_callback()])``. dspy 3.4's default engine (its bundled lm15 client) calls the
provider over its own HTTP client, past both the openai SDK and litellm, so obs reads what dspy itself records: the
callback's start and end bracket the call on the caller's side (its trace context, times), and the LM's history
entry of the call gives the messages, parameters, the provider's usage and the answer. A call dspy answers from its
cache (empty usage) made no provider call and is not recorded. When the LM's engine is litellm and litellm's
callback is registered too, litellm's record (the exact body sent) is the one kept.

This module imports dspy: ``obs.sdk.dspy_callback`` imports it only when asked for a callback.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dspy.utils.callback import BaseCallback

from obs import clock
from obs.capture.context import OuterCall, current, outer_call
from obs.capture.events import CallEvent
from obs.capture.recording import safely
from obs.records import new_span_id, new_trace_id
from obs.serialize import snapshot

#: ``dspy.LM`` settings that say where and as whom to connect, not how to answer: never stored.
_CONNECTION = frozenset({"api_key", "api_base", "base_url", "api_version", "headers", "extra_headers"})
#: Calls started but never ended are forgotten past this many.
_STARTED_LIMIT = 10_000


@dataclass(slots=True)
class _Started:
    instance: Any
    seen: int  # the LM's history length when the call started
    ts: datetime
    start_ns: int
    outer: OuterCall
    token: Any
    call_id: str
    trace_id: str
    parent_id: str | None
    attrs: Mapping[str, Any]
    inputs: Mapping[str, Any]


class ObsDspyCallback(BaseCallback):  # type: ignore[misc]
    """dspy callback: every LM call (sync or async, any engine) becomes a CallEvent of kind ``chat``."""

    def __init__(self, enqueue: Callable[[CallEvent], None]) -> None:
        super().__init__()
        self._enqueue = enqueue
        self._started: dict[str, _Started] = {}
        self._lock = threading.Lock()

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        safely(self._start, call_id, instance, inputs)

    def on_lm_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
        safely(self._end, call_id, outputs, exception)

    def _start(self, key: str, instance: Any, inputs: Mapping[str, Any]) -> None:
        ctx = current()
        outer = OuterCall()
        started = _Started(
            instance=instance, seen=len(getattr(instance, "history", ())), ts=clock.now(), start_ns=clock.perf_ns(),
            outer=outer, token=outer_call.set(outer), call_id=new_span_id(),
            trace_id=ctx.trace_id if ctx else new_trace_id(), parent_id=ctx.span_id if ctx else None,
            attrs=dict(ctx.attrs) if ctx else {}, inputs=snapshot(dict(inputs)),
        )  # fmt: skip
        with self._lock:
            self._started[key] = started
            if len(self._started) > _STARTED_LIMIT:
                del self._started[next(iter(self._started))]

    def _end(self, key: str, outputs: Any, error: BaseException | None) -> None:
        end_ns = clock.perf_ns()
        with self._lock:
            started = self._started.pop(key, None)
        if started is None:
            return
        safely(outer_call.reset, started.token)
        if started.outer.recorded_inside:
            return  # litellm's callback recorded it, from the very body sent
        entry = _entry(started, outputs) if error is None else None
        if error is None and (entry is None or not entry.get("usage")):
            return  # answered from dspy's cache (empty usage), or no history to read it from
        model = _model(started.instance, entry)
        request = _request(model, started.inputs, entry, getattr(started.instance, "kwargs", None))
        self._enqueue(
            CallEvent(
                kind="chat", call_id=started.call_id, trace_id=started.trace_id, parent_id=started.parent_id,
                ts=started.ts, start_ns=started.start_ns, end_ns=end_ns, request=request,
                provider=_provider(started.instance), response=_response(entry) if entry else None, error=error,
                attrs=started.attrs,
            )
        )  # fmt: skip


@functools.cache
def callback(enqueue: Callable[[CallEvent], None]) -> ObsDspyCallback:
    """The process's dspy callback (one, so that adding it twice cannot record a call twice)."""
    return ObsDspyCallback(enqueue)


# --- pure helpers ----------------------------------------------------------------------------------------


def _entry(started: _Started, outputs: Any) -> Mapping[str, Any] | None:
    """The LM's history entry of this call: the newest one added since it started whose outputs are these."""
    history = list(getattr(started.instance, "history", ()) or ())[started.seen :]
    for entry in reversed(history):
        if isinstance(entry, Mapping) and (outputs is None or entry.get("outputs") == outputs):
            return entry
    return None


def _model(instance: Any, entry: Mapping[str, Any] | None) -> str:
    """The model asked for, without dspy's provider prefix (``openai/gpt-4o-mini`` -> ``gpt-4o-mini``)."""
    name = str((entry or {}).get("model") or getattr(instance, "model", "") or "unknown")
    return name.split("/", 1)[1] if "/" in name else name


def _provider(instance: Any) -> str:
    name = str(getattr(instance, "model", "") or "")
    return name.split("/", 1)[0] if "/" in name else "unknown"


def _request(
    model: str, inputs: Mapping[str, Any], entry: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The request as dspy made it: its messages, the LM's parameters (``dspy.LM(..., temperature=...)``, never
    its key or endpoint) overridden by the call's."""
    messages = (entry or {}).get("messages") or inputs.get("messages")
    prompt = (entry or {}).get("prompt") or inputs.get("prompt")
    if not messages and isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    given = (entry or {}).get("kwargs") or inputs.get("kwargs") or {}
    kwargs = {**{k: v for k, v in (defaults or {}).items() if k not in _CONNECTION and v is not None}, **given}
    params = {k: (f"{v.__module__}.{v.__qualname__}" if isinstance(v, type) else v) for k, v in kwargs.items()}
    result = snapshot({"model": model, "messages": messages, **params})
    return result if isinstance(result, dict) else {"model": model}


def _response(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A chat completion made of the history entry: the answer, its tool calls, finish reason and usage."""
    response = entry.get("response")
    outputs = entry.get("outputs") or []
    text = getattr(response, "text", None)
    if text is None and outputs:
        text = outputs[0] if isinstance(outputs[0], str) else json.dumps(snapshot(outputs[0]))
    message: dict[str, Any] = {"role": "assistant", "content": text}
    calls = [_tool_call(c) for c in getattr(response, "tool_calls", None) or ()]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": getattr(response, "id", None),
        "object": "chat.completion",
        "model": entry.get("response_model") or getattr(response, "model", None),
        "choices": [{"index": 0, "message": message, "finish_reason": getattr(response, "finish_reason", None)}],
        "usage": snapshot(entry.get("usage")),
    }


def _tool_call(call: Any) -> dict[str, Any]:
    arguments = getattr(call, "arguments", None) or getattr(call, "input", None)
    return {
        "id": getattr(call, "id", None),
        "type": "function",
        "function": {
            "name": getattr(call, "name", None),
            "arguments": arguments if isinstance(arguments, str) else json.dumps(snapshot(arguments)),
        },
    }
