"""Trace context in contextvars: ``trace()``, ``span()`` and ``@observe()``.

asyncio tasks inherit the context they were created in; explicit ids given to a call override it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from obs import clock
from obs.records import Span, new_span_id, new_trace_id

P = ParamSpec("P")
R = TypeVar("R")

#: Attributes a trace passes down to every call and span inside it.
ATTRIBUTES = ("user_id", "session_id", "tenant_id", "feature", "prompt_version", "tags", "metadata")


@dataclass(frozen=True, slots=True)
class Context:
    """Where we are: the trace, the innermost open span, and the attributes calls inherit."""

    trace_id: str
    span_id: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[Context | None] = contextvars.ContextVar("obs_context", default=None)


def current() -> Context | None:
    """The active trace context, if any."""
    return _current.get()


def merged_attrs(parent: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A child's attributes: the parent's, overridden by what is given (metadata and tags are merged)."""
    attrs = dict(parent)
    for key, value in given.items():
        if value is None:
            continue
        if key == "metadata" and isinstance(attrs.get("metadata"), Mapping):
            attrs["metadata"] = {**attrs["metadata"], **value}
        elif key == "tags" and attrs.get("tags"):
            attrs["tags"] = tuple(dict.fromkeys([*attrs["tags"], *value]))
        else:
            attrs[key] = tuple(value) if key == "tags" else value
    return attrs


class SpanHandle:
    """An open span (or trace). Use as a context manager; ``set_output`` records what the step produced."""

    def __init__(
        self,
        name: str,
        kind: str,
        *,
        enqueue: Callable[[Span], None],
        trace_id: str | None = None,
        parent_id: str | None = None,
        input: Any = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        parent = _current.get()
        self.name = name
        self.kind = kind
        self.id = new_span_id()
        self.trace_id = trace_id or (parent.trace_id if parent else new_trace_id())
        inherits = parent is not None and parent.trace_id == self.trace_id
        self.parent_id = parent_id or (parent.span_id if inherits and parent else None)
        self.attrs = merged_attrs(parent.attrs if inherits and parent else {}, attrs or {})
        self.input = input
        self.output: Any = None
        self.metadata: dict[str, Any] = {}
        self._enqueue = enqueue
        self._token: contextvars.Token[Context | None] | None = None
        self._start = clock.now()
        self._start_ns = clock.perf_ns()

    def set_output(self, output: Any) -> None:
        """What this step produced (stored with the span)."""
        self.output = output

    def set_metadata(self, **values: Any) -> None:
        """Extra key/values stored with the span."""
        self.metadata.update(values)

    def __enter__(self) -> SpanHandle:
        self._start = clock.now()
        self._start_ns = clock.perf_ns()
        self._token = _current.set(Context(self.trace_id, self.id, self.attrs))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            try:
                _current.reset(self._token)
            except ValueError:  # exited in another context (a generator moved across tasks): just detach
                _current.set(None)
        self.end(exc)

    async def __aenter__(self) -> SpanHandle:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def end(self, exc: BaseException | None = None) -> None:
        """Close the span and hand it to the recorder (done by the context manager)."""
        try:
            elapsed_ns = clock.perf_ns() - self._start_ns
            metadata = {**(self.attrs.get("metadata") or {}), **self.metadata}
            self._enqueue(
                Span(
                    id=self.id,
                    trace_id=self.trace_id,
                    parent_id=self.parent_id,
                    name=self.name,
                    kind=self.kind,
                    start_ts=self._start,
                    end_ts=datetime.fromtimestamp(self._start.timestamp() + elapsed_ns / 1e9, UTC),
                    latency_ms=round(elapsed_ns / 1e6),
                    status="error" if exc else "ok",
                    error=f"{type(exc).__name__}: {exc}" if exc else None,
                    input=self.input,
                    output=self.output,
                    metadata=metadata or None,
                    user_id=self.attrs.get("user_id"),
                    session_id=self.attrs.get("session_id"),
                    tenant_id=self.attrs.get("tenant_id"),
                    feature=self.attrs.get("feature"),
                    tags=tuple(self.attrs.get("tags") or ()),
                )
            )
        except Exception:  # pragma: no cover - recording never breaks the app
            pass


def observe_decorator(
    enqueue: Callable[[Span], None],
    name: str | None,
    kind: str,
    capture_input: bool,
    capture_output: bool,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a sync or async function a span of the current trace (a new trace when there is none)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        span_name = name or func.__qualname__
        signature = _signature(func)

        def open_span(args: Sequence[Any], kwargs: Mapping[str, Any]) -> SpanHandle:
            given = _bound_arguments(signature, args, kwargs) if capture_input else None
            return SpanHandle(span_name, kind, enqueue=enqueue, input=given)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with open_span(args, kwargs) as span:
                    result = await func(*args, **kwargs)
                    if capture_output:
                        span.set_output(result)
                    return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with open_span(args, kwargs) as span:
                result = func(*args, **kwargs)
                if capture_output:
                    span.set_output(result)
                return result

        return wrapper

    return decorate


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def _bound_arguments(
    signature: inspect.Signature | None, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    if signature is not None:
        try:
            bound = signature.bind_partial(*args, **kwargs)
            return {k: v for k, v in bound.arguments.items() if k not in {"self", "cls"}}
        except TypeError:
            pass
    return {"args": list(args), "kwargs": dict(kwargs)}


class OuterCall:
    """A call an outer capture source (the dspy callback) records only if no inner one (litellm's) did."""

    __slots__ = ("recorded_inside",)

    def __init__(self) -> None:
        self.recorded_inside = False


#: The outer call in progress in this thread or task: an inner source marks it as recorded. A copied context (an
#: executor thread) holds the same object, so the mark is seen.
outer_call: contextvars.ContextVar[OuterCall | None] = contextvars.ContextVar("obs_outer_call", default=None)
