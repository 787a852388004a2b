"""Where a proxied request goes, which headers travel on, and what the ``obs-*`` headers say about the call.

Pure code, no I/O. The paths (the ``/v1`` in each stands for the provider's base URL):

    /v1/messages                  -> the provider ``anthropic``'s /v1/messages (Anthropic's Messages API)
    /v1/<anything else>           -> the provider ``openai``'s base URL + /<anything else>
    /p/<name>/v1/<rest>           -> the provider ``<name>`` (``OBS_PROVIDERS_FILE``, or a built-in one)

``chat/completions``, ``responses``, ``embeddings`` and ``messages`` are recorded; every other path (models,
files, count_tokens ...) is relayed and not recorded. A provider's base URL ends in ``/v1`` for OpenAI's API (as
the openai SDK's does) and may or may not for Anthropic's (the anthropic SDK adds ``/v1`` itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from obs import config
from obs.capture.events import Kind
from obs.replay.providers import Provider

#: The recorded endpoints, by the path after the ``/v1``.
RECORDED: Mapping[str, Kind] = {
    "chat/completions": "chat",
    "responses": "responses",
    "embeddings": "embeddings",
    "messages": "messages",
}
#: Headers that describe one connection, not the message (RFC 9110 7.6.1), and those the HTTP stack sets itself.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                         "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"})  # fmt: skip
#: Headers that say something to obs, never to the provider.
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
OBS_PREFIX = "obs-"
_METADATA_PREFIX = "obs-metadata-"
#: ``obs-<name>`` headers and the call attribute each sets.
ATTRIBUTE_HEADERS: Mapping[str, str] = {
    "obs-user-id": "user_id",
    "obs-session-id": "session_id",
    "obs-tenant-id": "tenant_id",
    "obs-feature": "feature",
    "obs-prompt-version": "prompt_version",
}
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


class NoRoute(Exception):
    """A path the proxy does not serve; the message says which ones it does (404)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One request's upstream: the provider, the URL (without the query) and what is recorded (None: nothing)."""

    provider: Provider
    url: str
    kind: Kind | None


def route(path: str, providers: Mapping[str, Provider]) -> Route:
    """The upstream of a request path; NoRoute when there is none."""
    name: str | None = None
    rest = path
    if path.startswith("/p/"):
        name, _, rest = path[3:].partition("/")
        rest = "/" + rest
    if not rest.startswith("/v1/"):
        raise NoRoute(
            f"no route {path}: send OpenAI-API calls to /v1/..., Anthropic's to /v1/messages, and another "
            f"provider's (from {config.ENV_PROVIDERS_FILE}) to /p/<name>/v1/..."
        )
    endpoint = rest[len("/v1/") :]
    kind = RECORDED.get(endpoint.rstrip("/"))
    if name is None:
        name = "anthropic" if endpoint.startswith("messages") else "openai"
    provider = providers.get(name)
    if provider is None:
        known = ", ".join(sorted(providers))
        raise NoRoute(f"no provider {name!r} (known: {known}); add it to {config.ENV_PROVIDERS_FILE}")
    if kind is not None and not provider.speaks("anthropic" if kind == "messages" else "openai"):
        kind = None  # an API the provider does not speak: relayed as it is, its answer is the provider's
    return Route(provider, _upstream(provider, endpoint), kind)


def _upstream(provider: Provider, endpoint: str) -> str:
    base = provider.url().rstrip("/")
    if provider.api == "anthropic":  # the anthropic SDK's convention: the base URL without /v1
        base = base.removesuffix("/v1") + "/v1"
    return f"{base}/{endpoint}"


def upstream_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers as they go on: its ``Authorization`` / ``x-api-key`` untouched; without the
    connection's own headers, obs's headers and the trace context."""
    return [(k, v) for k, v in headers if not _is_ours(k.lower()) and k.lower() not in _HOP_BY_HOP]


def downstream_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's response headers as the client gets them (the server frames the body itself)."""
    return [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]


def _is_ours(name: str) -> bool:
    return name.startswith(OBS_PREFIX) or name in _TRACE_HEADERS


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a request's headers say about its call: attributes (user, session, tenant, feature, prompt version,
    metadata) and its place in a trace."""

    attrs: dict[str, Any]
    trace_id: str | None
    parent_id: str | None


def call_context(headers: Mapping[str, str]) -> CallContext:
    """The ``obs-*`` headers and ``traceparent`` of a request (header names in lower case). An id that is not W3C
    hex is ignored: the call then starts a trace of its own."""
    attrs: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for name, value in headers.items():
        if name in ATTRIBUTE_HEADERS and value:
            attrs[ATTRIBUTE_HEADERS[name]] = value
        elif name.startswith(_METADATA_PREFIX) and len(name) > len(_METADATA_PREFIX):
            metadata[name[len(_METADATA_PREFIX) :]] = value
    if metadata:
        attrs["metadata"] = metadata
    trace_id = parent_id = None
    parent = _TRACEPARENT.fullmatch(headers.get("traceparent", "").strip().lower())
    if parent and parent[1] != _ZERO_TRACE and parent[2] != _ZERO_SPAN:
        trace_id, parent_id = parent[1], parent[2]
    given_trace = headers.get("obs-trace-id", "").strip().lower()
    if _TRACE_ID.fullmatch(given_trace) and given_trace != _ZERO_TRACE:
        trace_id = given_trace
    given_parent = headers.get("obs-parent-id", "").strip().lower()
    if _SPAN_ID.fullmatch(given_parent) and given_parent != _ZERO_SPAN:
        parent_id = given_parent
    return CallContext(attrs, trace_id, parent_id)
