"""What an LLM span says, in whichever attribute dialect it was written: a table of keys per field, tried in order.

Three dialects reach obs: the OpenTelemetry GenAI semantic conventions (v1.37 and later drafts: JSON content in
``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions``, usage in
``gen_ai.usage.*``), OpenLLMetry's older keys (``gen_ai.prompt.N.*``, ``gen_ai.completion.N.*``, ``llm.usage.*``,
``traceloop.association.properties.*``) and OpenInference (``llm.input_messages.N.message.*``,
``llm.token_count.*``, ``input.value``). ``read`` turns a span's attributes into one ``LlmSpan``, in OpenAI chat
terms (messages with ``role`` / ``content`` / ``tool_calls``), and says which attributes it used: the others are
kept in the call's metadata, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from obs.capture.otlp.values import indexed, json_value

#: Each field of a call, and the attribute keys that carry it, the newest convention first.
KEYS: Mapping[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name", "llm.request.type"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "request_model": ("gen_ai.request.model", "llm.model_name", "gen_ai.response.model"),
    "response_model": ("gen_ai.response.model", "llm.response.model"),
    "response_id": ("gen_ai.response.id",),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens",
                     "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens",
                      "llm.token_count.completion"),
    "cache_read": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                   "llm.usage.cache_read_input_tokens", "llm.token_count.prompt_details.cache_read"),
    "cache_write": ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
                    "gen_ai.usage.cache_creation_input_tokens", "llm.usage.cache_creation_input_tokens",
                    "llm.token_count.prompt_details.cache_write"),
    "reasoning": ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens", "llm.usage.reasoning_tokens",
                  "llm.token_count.completion_details.reasoning"),
    "finish_reasons": ("gen_ai.response.finish_reasons", "llm.finish_reason"),
    "stream": ("gen_ai.request.stream", "gen_ai.is_streaming", "llm.is_streaming"),
    "ttft_s": ("gen_ai.response.time_to_first_chunk", "gen_ai.response.time_to_first_token"),
    "system": ("gen_ai.system_instructions",),
    "input_messages": ("gen_ai.input.messages",),
    "output_messages": ("gen_ai.output.messages",),
    "tools": ("gen_ai.tool.definitions",),
    "invocation_parameters": ("llm.invocation_parameters",),
    # The record's own attributes: obs.* first (documented), then each dialect's, then the resource's.
    "user_id": ("obs.user_id", "user.id", "enduser.id", "gen_ai.user.id", "traceloop.association.properties.user_id"),
    "session_id": ("obs.session_id", "gen_ai.conversation.id", "session.id",
                   "traceloop.association.properties.session_id"),
    "tenant_id": ("obs.tenant_id", "tenant.id", "traceloop.association.properties.tenant_id"),
    "feature": ("obs.feature", "traceloop.association.properties.feature"),
    "prompt_version": ("obs.prompt_version", "traceloop.association.properties.prompt_version",
                       "llm.prompt_template.version"),
    "tags": ("obs.tags", "tag.tags"),
}  # fmt: skip
#: Attributes that never become a call's metadata: what only says how the span was made.
_NOISE = frozenset({"openinference.span.kind", "traceloop.span.kind", "input.mime_type", "output.mime_type",
                    "llm.usage.total_tokens", "llm.token_count.total", "gen_ai.usage.total_tokens"})  # fmt: skip
#: Flattened lists (``prefix.N.*``) each dialect writes messages, tools and completions in.
_PREFIXES = ("gen_ai.prompt", "gen_ai.completion", "llm.input_messages", "llm.output_messages", "llm.tools",
             "llm.request.functions")  # fmt: skip
#: Operations (GenAI) and request types (OpenLLMetry) that are model calls; OpenInference says LLM / EMBEDDING.
LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings", "completion", "embedding"})
USER_ATTRIBUTES = ("user_id", "session_id", "tenant_id", "feature", "prompt_version")


def is_llm(attrs: Mapping[str, Any]) -> bool:
    """A model call (not a tool, an agent, a retrieval or an HTTP request)."""
    kind = attrs.get("openinference.span.kind")
    if kind is not None:
        return str(kind).upper() in {"LLM", "EMBEDDING"}
    operation = _first(attrs, "operation")
    return str(operation).lower() in LLM_OPERATIONS if operation is not None else False


@dataclass
class LlmSpan:
    """A model call read from a span, in OpenAI chat terms."""

    provider: str | None = None
    model: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    operation: str | None = None
    system: str | None = None
    messages: list[Any] | None = None
    tools: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    output_text: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    stream: bool = False
    ttft_s: float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    #: The attributes nothing above was read from.
    metadata: dict[str, Any] = field(default_factory=dict)


def read(attrs: Mapping[str, Any]) -> LlmSpan:
    """An LLM span's attributes (its content events' merged in) as one call."""
    used: set[str] = set()
    get = _Getter(attrs, used)
    out = LlmSpan(
        provider=_str(get("provider")), model=_str(get("request_model")), response_model=_str(get("response_model")),
        response_id=_str(get("response_id")), operation=_str(get("operation")),
    )  # fmt: skip
    _content(out, attrs, get, used)
    out.params = _params(attrs, get, used)
    asked = out.params.pop("model", None)  # OpenInference: llm.model_name is the model that answered
    if asked and "llm.model_name" in attrs and "gen_ai.request.model" not in attrs:
        out.model, out.response_model = str(asked), out.response_model or str(attrs["llm.model_name"])
    for name, key in (("input_tokens", "prompt"), ("output_tokens", "completion"), ("cache_read", "cached"),
                      ("cache_write", "cache_write"), ("reasoning", "reasoning")):  # fmt: skip
        count = get(name)
        if isinstance(count, int | float) and not isinstance(count, bool):
            out.usage[key] = int(count)
    reasons = get("finish_reasons")
    if isinstance(reasons, list | tuple) and reasons:
        out.finish_reason = str(reasons[0])
    elif out.finish_reason is None and isinstance(reasons, str):
        out.finish_reason = reasons
    out.stream = bool(get("stream")) or bool(out.params.pop("stream", False))
    ttft = get("ttft_s")
    out.ttft_s = float(ttft) if isinstance(ttft, int | float) and not isinstance(ttft, bool) else None
    out.attrs = {name: str(v) for name in USER_ATTRIBUTES if (v := get(name)) not in (None, "")}
    tags = json_value(get("tags"))
    if isinstance(tags, list) and tags:
        out.tags = tuple(str(t) for t in tags)
    if out.messages is not None and "llm.input_messages.0.message.role" in attrs:
        used.update({"input.value", "output.value"})  # OpenInference's raw request and response: read as messages
    out.metadata = {k: json_value(v) for k, v in attrs.items() if k not in used and k not in _NOISE}
    return out


def user_attributes(attrs: Mapping[str, Any]) -> dict[str, str]:
    """user, session, tenant, feature and prompt version from any span's (or the resource's) attributes."""
    return {name: str(v) for name in USER_ATTRIBUTES if (v := _first(attrs, name)) not in (None, "")}


# --- content ---------------------------------------------------------------------------------------------


def _content(out: LlmSpan, attrs: Mapping[str, Any], get: _Getter, used: set[str]) -> None:
    system = json_value(get("system"))
    out.system = _parts_text(system) if isinstance(system, list) else _str(system)
    given = json_value(get("input_messages"))
    if isinstance(given, list):  # GenAI conventions: messages of parts
        out.messages = [_genai_message(m) for m in given if isinstance(m, dict)]
    else:
        flat = _flat(attrs, used, "gen_ai.prompt")
        flat = flat or [m.get("message", {}) for m in _flat(attrs, used, "llm.input_messages")]
        out.messages = [_flat_message(m) for m in flat] or None
    if out.messages is None and "input.value" in attrs:  # OpenInference without messages: the raw input
        used.add("input.value")
        out.messages = [{"role": "user", "content": _str(attrs["input.value"])}]
    if out.system is None:
        out.system = next((m["content"] for m in out.messages or () if m.get("role") in {"system", "developer"}
                           and isinstance(m.get("content"), str)), None)  # fmt: skip
    answer = json_value(get("output_messages"))
    if isinstance(answer, list):
        replies = [_genai_message(m) for m in answer if isinstance(m, dict)]
        out.finish_reason = next((str(m["finish_reason"]) for m in answer if isinstance(m, dict)
                                  and m.get("finish_reason")), None)  # fmt: skip
    else:
        completions = _flat(attrs, used, "gen_ai.completion")
        replies = [_flat_message(m) for m in completions] or [
            _flat_message(m.get("message", {})) for m in _flat(attrs, used, "llm.output_messages")]  # fmt: skip
        out.finish_reason = next((str(m["finish_reason"]) for m in completions if m.get("finish_reason")), None)
    if not replies and "output.value" in attrs:
        used.add("output.value")
        replies = [{"role": "assistant", "content": _str(attrs["output.value"])}]
    texts = [r["content"] for r in replies if isinstance(r.get("content"), str)]
    out.output_text = "".join(texts) if texts else None
    calls = [c for r in replies for c in r.get("tool_calls") or ()]
    out.tool_calls = calls or None
    tools = json_value(get("tools"))
    if tools is None:
        tools = _flat(attrs, used, "llm.tools") or _flat(attrs, used, "llm.request.functions") or None
        if isinstance(tools, list):
            tools = [json_value(t.get("tool", {}).get("json_schema")) if "tool" in t else t for t in tools]
    out.tools = tools


def _genai_message(message: dict[str, Any]) -> dict[str, Any]:
    """A GenAI-conventions message (``role``, ``parts``) as a chat message."""
    parts = message.get("parts")
    out: dict[str, Any] = {"role": message.get("role", "user")}
    if not isinstance(parts, list):
        out["content"] = message.get("content")
        return out
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for part in parts:  # one pass: this runs for every message of every span
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("content", "")))
        elif kind == "tool_call":
            calls.append(_tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            results.append(part)
        else:
            others.append(part)
    if results:
        out["role"] = "tool"
        out["tool_call_id"] = results[0].get("id")
        response = results[0].get("response")
        out["content"] = response if isinstance(response, str) else json.dumps(response)
    elif others:
        out["content"] = [{"type": "text", "text": t} for t in texts] + others
    else:
        out["content"] = "".join(texts) if texts else None
    if calls:
        out["tool_calls"] = calls
    if message.get("name"):
        out["name"] = message["name"]
    return out


def _flat_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message of OpenLLMetry's (``gen_ai.prompt.N.*``) or OpenInference's (``llm.input_messages.N.message.*``)
    flattened keys as a chat message."""
    out: dict[str, Any] = {"role": message.get("role", "user")}
    content = message.get("content")
    contents = message.get("contents")
    if content is None and isinstance(contents, list):
        texts = [c.get("message_content", {}).get("text") for c in contents if isinstance(c, dict)]
        content = "".join(t for t in texts if isinstance(t, str)) or None
    out["content"] = content
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        tool_calls = []
        for call in calls:
            call = call.get("tool_call", call) if isinstance(call, dict) else {}
            function = call.get("function", {}) if isinstance(call.get("function"), dict) else {}
            tool_calls.append(_tool_call(call.get("id"), call.get("name") or function.get("name"),
                                         call.get("arguments") or function.get("arguments")))  # fmt: skip
        out["tool_calls"] = tool_calls
    for key in ("tool_call_id", "name"):
        if message.get(key):
            out[key] = message[key]
    return out


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) or arguments is None else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def _parts_text(parts: list[Any]) -> str | None:
    texts = [str(p.get("content", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(texts) or None


# --- parameters ------------------------------------------------------------------------------------------


def _params(attrs: Mapping[str, Any], get: _Getter, used: set[str]) -> dict[str, Any]:
    """The request's model parameters: ``gen_ai.request.*`` (the model aside), OpenInference's invocation
    parameters, OpenLLMetry's ``llm.request.*``."""
    params: dict[str, Any] = {}
    invocation = json_value(get("invocation_parameters"))
    if isinstance(invocation, dict):
        params.update({k: v for k, v in invocation.items() if k not in {"messages", "tools"}})
    for prefix in ("gen_ai.request.", "llm.request."):
        for key, v in attrs.items():
            if key.startswith(prefix):
                name = key[len(prefix) :]
                if name not in {"model", "type"} and "." not in name:
                    used.add(key)
                    params[name] = v
    return params


# --- helpers -----------------------------------------------------------------------------------------------


class _Getter:
    """The first of a field's keys that the attributes have (remembering it as used)."""

    def __init__(self, attrs: Mapping[str, Any], used: set[str]) -> None:
        self._attrs = attrs
        self._used = used

    def __call__(self, name: str) -> Any:
        for key in KEYS[name]:
            if key in self._attrs:
                self._used.add(key)
                return self._attrs[key]
        return None


def _first(attrs: Mapping[str, Any], name: str) -> Any:
    return next((attrs[key] for key in KEYS[name] if key in attrs), None)


def _flat(attrs: Mapping[str, Any], used: set[str], prefix: str) -> list[dict[str, Any]]:
    found = indexed(attrs, prefix)
    if found:
        used.update(k for k in attrs if k.startswith(prefix + "."))
    return found


def _str(v: Any) -> str | None:
    return None if v is None else str(v)
