"""The public SDK: configure, wrap, trace, span, observe, logged_completion, feedback, flush, stats."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from obs import clock, config
from obs.capture import langchain, recording
from obs.capture.anthropic import instrument as anthropic
from obs.capture.context import SpanHandle, current, observe_decorator
from obs.capture.events import CallEvent
from obs.capture.openai import instrument
from obs.privacy.policy import Policies
from obs.recorder.queue import Recorder, RecorderStats
from obs.records import Feedback, Span, new_span_id

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C")

_lock = threading.Lock()
_recorder: Recorder | None = None
_settings: dict[str, Any] = {}
_default_client: Any = None


def configure(
    database_url: str | None = None,
    *,
    spool_dir: str | Path | None = None,
    refusal_patterns: Iterable[str] | None = None,
    privacy: Policies | None = None,
) -> None:
    """Point the recorder somewhere else (OBS_DATABASE_URL / OBS_SPOOL_DIR otherwise); flushes the old one.

    ``privacy``: the privacy policies to store calls under (default: the policy file, OBS_PRIVACY_FILE)."""
    global _recorder
    with _lock:
        old, _recorder = _recorder, None
        _settings.update(
            database_url=config.normalize_database_url(database_url) if database_url else None,
            spool_dir=Path(spool_dir) if spool_dir else None,
            refusal_patterns=tuple(refusal_patterns) if refusal_patterns is not None else None,
            privacy=privacy,
        )
    if old is not None:
        old.shutdown(timeout=config.exit_timeout())


def recorder() -> Recorder:
    """The process's recorder (created on first use)."""
    global _recorder
    current = _recorder
    if current is None:
        with _lock:
            if _recorder is None:
                _recorder = Recorder(
                    _settings.get("database_url"),
                    spool_dir=_settings.get("spool_dir"),
                    refusal_patterns=_settings.get("refusal_patterns"),
                    privacy=_settings.get("privacy"),
                )
            current = _recorder
    return current


def _enqueue(event: CallEvent | Span | Feedback) -> None:
    if config.enabled():
        recorder().enqueue(event)


def wrap(client: C) -> C:
    """Record every call of a client: chat, responses and embeddings of an OpenAI, AsyncOpenAI or Azure client (or
    of the clients a langchain-openai model holds); messages of an Anthropic or AsyncAnthropic client (the same
    object is returned)."""
    if config.enabled():
        recorder().start_if_spooled()
    if type(client).__module__.split(".", 1)[0] == "anthropic":
        return anthropic.wrap(client, _enqueue)
    if langchain.is_model(client):
        return langchain.wrap(client, _enqueue)
    return instrument.wrap(client, _enqueue)


def trace(
    name: str,
    *,
    user_id: str | None = None,
    tenant_id: str | None = None,
    feature: str | None = None,
    session_id: str | None = None,
    prompt_version: str | None = None,
    tags: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    trace_id: str | None = None,
    input: Any = None,
) -> SpanHandle:
    """Open a trace: every call and span inside it shares its id and inherits its attributes."""
    attrs = {
        "user_id": user_id,
        "tenant_id": tenant_id,
        "feature": feature,
        "session_id": session_id,
        "prompt_version": prompt_version,
        "tags": tags,
        "metadata": metadata,
    }
    return SpanHandle(name, "trace", enqueue=_enqueue, trace_id=trace_id, input=input, attrs=attrs)


def span(name: str, *, kind: str = "span", input: Any = None, **attrs: Any) -> SpanHandle:
    """Open a non-LLM step (retrieval, a tool, ...) inside the current trace; ``s.set_output(...)`` to record."""
    return SpanHandle(name, kind, enqueue=_enqueue, input=input, attrs=attrs)


def observe(
    name: str | None = None, *, kind: str = "span", capture_input: bool = True, capture_output: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: each call of a sync or async function becomes a span of the current trace."""
    return observe_decorator(_enqueue, name, kind, capture_input, capture_output)


def logged_completion(
    *,
    messages: Sequence[Mapping[str, Any]],
    model: str,
    user_id: str | None = None,
    feature: str | None = None,
    trace_id: str | None = None,
    parent_id: str | None = None,
    client: Any = None,
    **kwargs: Any,
) -> Any:
    """The seed guide's ``logged_completion``: one recorded chat completion (a standalone call is its own trace)."""
    target = wrap(client) if client is not None else _client()
    attrs = {"user_id": user_id, "feature": feature, "trace_id": trace_id, "parent_id": parent_id}
    given = {k: v for k, v in attrs.items() if v is not None}
    return target.chat.completions.create(model=model, messages=messages, obs=given, **kwargs)


def _client() -> Any:
    global _default_client
    if _default_client is None:
        from openai import OpenAI

        _default_client = wrap(OpenAI())
    return _default_client


def feedback(
    value: str,
    *,
    call_id: str | None = None,
    trace_id: str | None = None,
    score: float | None = None,
    comment: str | None = None,
    source: str = "app",
    reviewer: str | None = None,
) -> str | None:
    """Record thumbs up/down or a score on a call (its obs id or the provider's response id) or a trace.

    ``comment`` is user text: it is stored under the privacy policy of the call (or trace) the feedback is about,
    like call content (see ``obs.privacy.feedback``)."""
    if call_id is None and trace_id is None:
        raise ValueError("feedback needs call_id= or trace_id=")
    where = current()
    item = Feedback(
        id=new_span_id(),
        ts=clock.now(),
        value=value,
        call_id=recording.response_ids.resolve(call_id),
        trace_id=trace_id,
        score=score,
        comment=comment,
        source=source,
        reviewer=reviewer,
        # Only the fallback: the writer looks for the feature of the call or trace the feedback is about.
        feature=where.attrs.get("feature") if where is not None else None,
    )
    _enqueue(item)
    return item.id


def get_call_id(response: Any) -> str | None:
    """The obs call id of a response returned by a wrapped client (None if obs did not record it)."""
    response_id = getattr(response, "id", None)
    resolved = recording.response_ids.resolve(response_id) if isinstance(response_id, str) else None
    return resolved if resolved != response_id else None


def flush(timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` seconds until everything recorded so far is stored or spooled."""
    return recorder().flush(timeout) if _recorder is not None else True


def stats() -> RecorderStats:
    """Recorder counters: enqueued, written, spooled, replayed, dropped, rejected, queue depth, spool files."""
    return recorder().stats()


def litellm_callback() -> Any:
    """A litellm callback recording every completion and embedding: ``litellm.callbacks = [obs.litellm_callback()]``.

    dspy calls litellm, so its calls are recorded too. Imports litellm (which must be installed) on first use."""
    from obs.capture import litellm as litellm_capture

    if config.enabled():
        recorder().start_if_spooled()
    return litellm_capture.callback(_enqueue)


def dspy_callback() -> Any:
    """A dspy callback recording every LM call, whatever engine sends it: ``dspy.configure(callbacks=[...])``.

    Imports dspy (which must be installed) on first use."""
    from obs.capture import dspy as dspy_capture

    if config.enabled():
        recorder().start_if_spooled()
    return dspy_capture.callback(_enqueue)
