"""The Messages API (``client.messages.create`` / ``.stream()``) in a record's terms.

Pure code over the SDK's objects or the JSON they were parsed from. Anthropic counts its prompt in three parts
(``input_tokens`` not cached, ``cache_read_input_tokens``, ``cache_creation_input_tokens``); a record counts as
OpenAI does, so ``prompt_tokens`` is their sum, ``cached_tokens`` the reads and ``cache_write_tokens`` the writes
(each billed at its own rate), and ``reasoning_tokens`` the thinking tokens inside ``output_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from obs.capture import fields
from obs.capture.events import Output
from obs.capture.fields import get
from obs.pricing.prices import Usage
from obs.serialize import plain

#: Request keys that are content (stored apart), not model parameters.
_CONTENT_KEYS = frozenset({"messages", "system", "tools"})
#: What an image block's data becomes in the stored messages: the bytes are not kept, only what they were.
IMAGE_MARKER = "image"


# --- requests -------------------------------------------------------------------------------------------


def system_prompt(request: Mapping[str, Any]) -> str | None:
    """``system`` as a string, or the text of its text blocks."""
    return fields.text_of(request.get("system"))


def messages(request: Mapping[str, Any]) -> Any:
    """The request's messages, each image's base64 data replaced by a marker with its media type and size."""
    items = request.get("messages")
    if not isinstance(items, list) or not any(_has_image(m) for m in items):
        return items
    return [_without_image_data(m) for m in items]


def request_params(request: Mapping[str, Any]) -> dict[str, Any]:
    """The model parameters: everything but the content, with header values redacted."""
    return fields.params(request, _CONTENT_KEYS)


def _has_image(message: Any) -> bool:
    content = message.get("content") if isinstance(message, Mapping) else None
    return isinstance(content, list) and any(_is_image(block) or _holds_image(block) for block in content)


def _is_image(block: Any) -> bool:
    source = block.get("source") if isinstance(block, Mapping) else None
    return (
        isinstance(block, Mapping)
        and block.get("type") in {"image", "document"}
        and isinstance(source, Mapping)
        and source.get("type") == "base64"
    )


def _holds_image(block: Any) -> bool:
    """A tool result whose content has an image."""
    return isinstance(block, Mapping) and block.get("type") == "tool_result" and _has_image(block)


def _without_image_data(message: Any) -> Any:
    if not _has_image(message):
        return message
    return {**message, "content": [_marked(block) for block in message["content"]]}


def _marked(block: Any) -> Any:
    if _holds_image(block):
        return _without_image_data(block)
    if not _is_image(block):
        return block
    source = block["source"]
    data = source.get("data")
    marker = {"__obs__": IMAGE_MARKER, "media_type": source.get("media_type"), "base64_chars": len(data or "")}
    return {**block, "source": {**source, "data": marker}}


# --- responses ------------------------------------------------------------------------------------------


def message_output(message: Any) -> Output:
    """A ``Message`` (or its JSON): the text blocks' text, tool use blocks, stop reason, usage."""
    blocks = get(message, "content") or []
    texts = [get(b, "text") or "" for b in blocks if get(b, "type") == "text"]
    text = "".join(texts) if texts else None
    tool_uses = [b for b in blocks if get(b, "type") in {"tool_use", "server_tool_use"}]
    stop_reason = get(message, "stop_reason")
    return Output(
        response=message,
        output_text=text,
        tool_calls=tool_uses or None,
        finish_reason=stop_reason,
        response_model=get(message, "model"),
        refusal=(text or "refusal") if stop_reason == "refusal" else None,
        usage=usage(get(message, "usage")),
    )


def usage(value: Any) -> Usage | None:
    """Anthropic's usage in a record's terms (see the module's docstring)."""
    input_tokens = get(value, "input_tokens")
    if input_tokens is None:
        return None
    cache_read = int(get(value, "cache_read_input_tokens") or 0)
    cache_write = int(get(value, "cache_creation_input_tokens") or 0)
    return Usage(
        prompt_tokens=int(input_tokens) + cache_read + cache_write,
        completion_tokens=int(get(value, "output_tokens") or 0),
        cached_tokens=cache_read,
        reasoning_tokens=int(get(get(value, "output_tokens_details"), "thinking_tokens") or 0),
        cache_write_tokens=cache_write,
    )


def stream_output(events: Sequence[Any]) -> Output:
    """The ``Message`` a stream's events make (``message_start``, content block starts, deltas and stops,
    ``message_delta``), read as a whole one; a stream cut short gives what had arrived."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial_json: dict[int, str] = {}
    for event in events:
        kind = get(event, "type")
        if kind == "message_start":
            message = _dict(get(event, "message"))
            message["usage"] = _dict(message.get("usage"))
        elif kind == "content_block_start":
            blocks[int(get(event, "index") or 0)] = _dict(get(event, "content_block"))
        elif kind == "content_block_delta":
            index = int(get(event, "index") or 0)
            _apply_delta(blocks.setdefault(index, {}), partial_json, index, get(event, "delta"))
        elif kind == "message_delta":
            delta = get(event, "delta")
            for key in ("stop_reason", "stop_sequence"):
                if get(delta, key) is not None:
                    message[key] = get(delta, key)
            counts = {k: v for k, v in _dict(get(event, "usage")).items() if v is not None}
            message["usage"] = {**message.get("usage", {}), **counts}
    for index, text in partial_json.items():
        try:
            blocks[index]["input"] = json.loads(text) if text else {}
        except ValueError:
            blocks[index]["input"] = text  # cut short: what arrived, as text
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message_output(message) if message.get("usage") or blocks else Output()


def _apply_delta(block: dict[str, Any], partial_json: dict[int, str], index: int, delta: Any) -> None:
    kind = get(delta, "type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + (get(delta, "text") or "")
    elif kind == "input_json_delta":
        partial_json[index] = partial_json.get(index, "") + (get(delta, "partial_json") or "")
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + (get(delta, "thinking") or "")
    elif kind == "signature_delta":
        block["signature"] = get(delta, "signature")
    elif kind == "citations_delta":
        block.setdefault("citations", []).append(plain(get(delta, "citation")))


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object of an SDK object (its wire fields) or a dict."""
    if value is None:
        return {}
    dumped = plain(value)
    return dict(dumped) if isinstance(dumped, Mapping) else {}
