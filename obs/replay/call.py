"""Replay a recorded call, exactly or with overrides, and compare the answer with the original.

The replayed request goes through a real ``openai`` (or, for a Messages API call, ``anthropic``) client wrapped by
obs, so the new call is recorded like any other (``source = replay``, ``replay_of = <original id>``): priced,
timed, visible in the explorer. Building the request is pure (``build_request``); sending it is the only I/O.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from obs import config
from obs.capture.anthropic import instrument as anthropic_instrument
from obs.capture.anthropic.messages import IMAGE_MARKER
from obs.capture.openai import instrument
from obs.errors import UserError
from obs.recorder.queue import Recorder
from obs.records import LLMCall, new_span_id
from obs.replay import providers
from obs.replay.compare import Comparison, compare
from obs.replay.providers import Provider, ProviderError
from obs.store import db
from obs.store.store import Store

Kind = Literal["chat", "responses", "messages"]

#: Stored parameters that are transport details of the original process, not part of the request to replay.
_TRANSPORT_KEYS = frozenset({"extra_headers", "extra_query", "timeout"})
#: Content states whose messages can be sent again (redacted content is sent with its placeholders).
REPLAYABLE_CONTENT = frozenset({"full", "redacted"})


class ReplayError(UserError):
    """A call cannot be replayed as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Overrides:
    """What to change in a replay; an empty Overrides replays the call exactly.

    ``messages`` maps a message's position to its new text; in ``params`` a value of None removes a parameter;
    ``replace`` swaps text inside the system prompt (old, new), which keeps per-call context around it intact.
    """

    model: str | None = None
    system_prompt: str | None = None
    replace: tuple[tuple[str, str], ...] = ()
    messages: Mapping[int, str] = field(default_factory=dict)
    temperature: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    provider: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Only what was changed, JSON-ready (stored with a replay run)."""
        out: dict[str, Any] = {
            "model": self.model,
            "system_prompt": self.system_prompt,
            "replace": [list(pair) for pair in self.replace] or None,
            "messages": {str(k): v for k, v in self.messages.items()} or None,
            "temperature": self.temperature,
            "params": dict(self.params) or None,
            "provider": self.provider,
        }
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> str:
        """One line: what this replay changes."""
        parts = [f"model {self.model}"] if self.model else []
        parts += ["new system prompt"] if self.system_prompt is not None else []
        if self.replace:
            count = len(self.replace)
            parts.append(f"system prompt edited ({count} replacement{'s' if count > 1 else ''})")
        parts += [f"message {i} edited" for i in sorted(self.messages)]
        parts += [f"temperature {self.temperature:g}"] if self.temperature is not None else []
        parts += [f"{k}={v}" for k, v in self.params.items()]
        parts += [f"provider {self.provider}"] if self.provider else []
        return ", ".join(parts) or "exact replay"


# --- building the request (pure) -------------------------------------------------------------------------


def replayable(call: LLMCall) -> None:
    """Raise ReplayError unless the call's content is stored (a replay needs every message)."""
    if call.content is None or call.content_state not in REPLAYABLE_CONTENT or call.content.messages is None:
        raise ReplayError(
            f"call {call.id} cannot be replayed: its content is {call.content_state.replace('_', '-')} "
            "(the messages were never stored or have expired); replay a call recorded with full content"
        )


def call_kind(call: LLMCall) -> Kind:
    """Chat completions, the Responses API or Anthropic's Messages API, as the stored answer (or the provider and
    messages) show; embeddings are refused."""
    response = call.content.response if call.content else None
    if isinstance(response, Mapping):
        if response.get("object") == "response":
            return "responses"
        if response.get("type") == "message":
            return "messages"
        if "dimensions" in response:
            raise ReplayError(f"call {call.id} is an embeddings call: replay compares answers of chat calls")
    messages = call.content.messages if call.content else None
    if isinstance(messages, list) and all(isinstance(m, Mapping) and "role" in m for m in messages):
        return "messages" if call.provider == "anthropic" else "chat"
    return "responses"


def call_api(kind: Kind) -> providers.Api:
    """The wire API a kind of call is sent with."""
    return "anthropic" if kind == "messages" else "openai"


def build_request(call: LLMCall, overrides: Overrides) -> tuple[Kind, dict[str, Any]]:
    """The request that replays ``call`` with ``overrides``: same messages, tools, model and parameters."""
    replayable(call)
    assert call.content is not None
    kind = call_kind(call)
    request = {
        k: copy.deepcopy(v)
        for k, v in (call.params or {}).items()
        if k not in _TRANSPORT_KEYS and not (k == "response_format" and isinstance(v, str))
    }
    request.setdefault("model", call.model)
    messages = copy.deepcopy(call.content.messages)
    if isinstance(messages, list):
        messages = _edit_messages(call.id, messages, overrides.messages)
    elif overrides.messages:
        raise ReplayError(f"call {call.id} was sent as one text input: edit it with the system prompt instead")
    if kind == "messages":
        _no_image_markers(call.id, messages)
        system = call.content.system_prompt if overrides.system_prompt is None else overrides.system_prompt
        if overrides.replace:
            system = _replaced(call.id, system or "", overrides.replace)
        if system:
            request["system"] = system
        request["messages"] = messages
    elif kind == "chat":
        prompt = overrides.system_prompt
        if overrides.replace:
            prompt = _replaced(call.id, _system_text(messages) if prompt is None else prompt, overrides.replace)
        if prompt is not None:
            messages = _with_system_prompt(messages, prompt)
        request["messages"] = messages
    else:
        request["input"] = messages
        instructions = call.content.system_prompt if overrides.system_prompt is None else overrides.system_prompt
        if overrides.replace:
            instructions = _replaced(call.id, instructions or "", overrides.replace)
        if instructions:
            request["instructions"] = instructions
    if call.content.tools:
        request["tools"] = copy.deepcopy(call.content.tools)
    if overrides.model:
        request["model"] = overrides.model
    if overrides.temperature is not None:
        request["temperature"] = overrides.temperature
    for key, value in overrides.params.items():
        if key in {"messages", "input", "instructions", "system", "model"}:
            raise ReplayError(f"parameter {key!r} is not a parameter: use the message, prompt or model override")
        if value is None:
            request.pop(key, None)
        else:
            request[key] = value
    return kind, request


def _no_image_markers(call_id: str, messages: Any) -> None:
    """An image obs kept only a marker of cannot be sent again."""
    if f'"__obs__": "{IMAGE_MARKER}"' in json.dumps(messages):
        raise ReplayError(
            f"call {call_id} sent an image, which obs stores as a marker, not its bytes: it cannot be replayed"
        )


def _edit_messages(call_id: str, messages: list[Any], edits: Mapping[int, str]) -> list[Any]:
    for index, text in edits.items():
        if not 0 <= index < len(messages) or not isinstance(messages[index], dict):
            raise ReplayError(f"call {call_id} has no message {index} to edit (it has {len(messages)})")
        messages[index] = {**messages[index], "content": text}
    return messages


def _system_text(messages: Any) -> str:
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and message.get("role") in {"system", "developer"}:
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


def _replaced(call_id: str, prompt: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if not old or old not in prompt:
            raise ReplayError(f"call {call_id}: the system prompt does not contain {old[:60]!r}")
        prompt = prompt.replace(old, new)
    return prompt


def _with_system_prompt(messages: list[Any], prompt: str) -> list[Any]:
    for index, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") in {"system", "developer"}:
            messages[index] = {**message, "content": prompt}
            return messages
    return [{"role": "system", "content": prompt}, *messages]


def default_provider(call: LLMCall) -> str:
    """OBS_REPLAY_PROVIDER, else ``demo`` for a call the demo provider answered, else ``anthropic`` for a Messages
    API call and ``openai`` for the others."""
    chosen = config.replay_provider()
    if chosen:
        return chosen
    response = call.content.response if call.content else None
    if isinstance(response, Mapping) and (
        response.get("system_fingerprint") == "fp_demo" or str(response.get("id", "")).startswith(_DEMO_IDS)
    ):
        return config.DEMO_PROVIDER
    return "anthropic" if call_kind(call) == "messages" else "openai"


#: How the demo provider's answers begin their ids (chat completions, Messages API).
_DEMO_IDS = ("chatcmpl-demo", "msg_demo")


# --- sending it ---------------------------------------------------------------------------------------------


def load_original(store: Store, call_id: str) -> LLMCall:
    """The call to replay; ReplayError when the store has no such call or no content for it."""
    call = store.get_call(call_id)
    if call is None:
        raise ReplayError(f"no call with id {call_id!r} in {db.display_url(store.engine.url)}")
    replayable(call)
    return call


class Session:
    """Replays through one provider into one store: a wrapped client and a recorder of its own."""

    def __init__(self, store: Store, provider: Provider, *, run: str | None = None) -> None:
        self.store = store
        self.provider = provider
        self.run = run
        self._key = provider.api_key()
        self.recorder = Recorder(store.engine.url.render_as_string(hide_password=False))
        self._clients: dict[providers.Api, Any] = {}

    @staticmethod
    def client_check(provider: Provider, kind: Kind) -> None:
        """ReplayError when ``provider`` does not speak the API ``kind`` of call is made with."""
        api = call_api(kind)
        if not provider.speaks(api):
            raise ReplayError(
                f"provider {provider.name!r} speaks the {provider.api} API, and this call was made with the {api} "
                f"API: replay it with --provider {api}, or a provider with api = {api!r} in "
                f"{config.ENV_PROVIDERS_FILE}"
            )

    def client(self, kind: Kind) -> Any:
        """The wrapped client that sends ``kind`` of call (made once; ReplayError when the provider does not speak
        the call's API)."""
        self.client_check(self.provider, kind)
        api = call_api(kind)
        if api not in self._clients:
            if api == "anthropic":
                self._clients[api] = anthropic_instrument.wrap(self.provider.anthropic_client(), self.recorder.enqueue)
            else:
                self._clients[api] = instrument.wrap(self.provider.client(), self.recorder.enqueue)
        return self._clients[api]

    def send(self, original: LLMCall, kind: Kind, request: dict[str, Any]) -> tuple[str, str | None]:
        """Send one replay; returns its call id and, when the provider failed, a one-line error (never raises)."""
        replay_id = new_span_id()
        tags: dict[str, Any] = {"call_id": replay_id, "source": "replay", "replay_of": original.id,
                                "feature": original.feature, "replay_provider": self.provider.name}  # fmt: skip
        if self.run:
            tags["replay_run"] = self.run
        try:
            client = self.client(kind)
        except (ReplayError, ProviderError) as exc:  # nothing was sent
            return replay_id, str(exc)
        try:
            if kind == "messages":
                result = client.messages.create(**providers.messages_arguments(request), obs=tags)
            elif kind == "chat":
                result = client.chat.completions.create(**request, obs=tags)
            else:
                result = client.responses.create(**request, obs=tags)
            if request.get("stream"):
                for _ in result:
                    pass
        except providers.CONNECTION_ERRORS as exc:
            return replay_id, self._scrub(f"cannot reach provider {self.provider.name!r}: {exc}")
        except providers.API_ERRORS as exc:
            status = getattr(exc, "status_code", None)
            return replay_id, self._scrub(f"{type(exc).__name__}" + (f" ({status})" if status else "") + f": {exc}")
        except (TypeError, ValueError) as exc:  # the client refused the request before sending it
            return replay_id, self._scrub(f"{type(exc).__name__}: {exc}")
        return replay_id, None

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def close(self) -> bool:
        """Write every recorded replay to the store; False when some could only be spooled."""
        done = self.recorder.flush(config.REPLAY_FLUSH_TIMEOUT_S)
        stats = self.recorder.stats()
        self.recorder.shutdown(timeout=1.0)
        return done and stats.spooled == 0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """A replay and its comparison with the original; ``error`` is the provider's error when it failed."""

    comparison: Comparison
    provider: str
    error: str | None = None

    @property
    def original(self) -> LLMCall:
        return self.comparison.original

    @property
    def replay(self) -> LLMCall:
        return self.comparison.replay


def resolve_provider(original: LLMCall, name: str | None) -> Provider:
    """The provider a replay of ``original`` goes to (ProviderError when unknown or misconfigured)."""
    return providers.get(name or default_provider(original))


def replay_call(
    store: Store, call_id: str, overrides: Overrides | None = None, *, provider: Provider | None = None
) -> ReplayResult:
    """Replay one call (exactly, or with overrides), record it, and compare it with the original.

    Raises ReplayError / ProviderError, before anything is sent or written, for an unknown call, a call without
    content, an unknown provider, a missing key or an unreachable provider.
    """
    overrides = overrides or Overrides()
    named = provider or (providers.get(overrides.provider) if overrides.provider else None)
    original = load_original(store, call_id)
    chosen = named or resolve_provider(original, None)
    kind, request = build_request(original, overrides)
    Session.client_check(chosen, kind)
    chosen.check()
    session = Session(store, chosen)
    try:
        replay_id, error = session.send(original, kind, request)
    finally:
        stored = session.close()
    replay = store.get_call(replay_id)
    if replay is None:
        raise ReplayError(
            f"the replay ran but is not in the store yet{'' if stored else ' (it was spooled)'}: "
            "run `obs spool replay` once the database is reachable"
        )
    return ReplayResult(compare(original, replay), chosen.name, error)


__all__ = [
    "Overrides",
    "ProviderError",
    "ReplayError",
    "ReplayResult",
    "Session",
    "build_request",
    "replay_call",
]
