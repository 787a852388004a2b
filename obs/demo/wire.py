"""The bodies the demo provider sends for a ``Plan`` (``obs.demo.replies``): OpenAI's chat completions (whole and
streamed), its Responses API, and Anthropic's Messages API, each with its own usage and error shapes. DEMO ONLY."""

from __future__ import annotations

import json
import re
from typing import Any

from obs.demo.replies import Plan, ids

CREATED = 1_764_000_000


def usage(p: Plan) -> dict[str, Any]:
    """The chat completions ``usage`` object of ``p``."""
    return {
        "prompt_tokens": p.prompt_tokens,
        "completion_tokens": p.completion_tokens,
        "total_tokens": p.prompt_tokens + p.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": p.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": p.reasoning_tokens, "audio_tokens": 0},
    }


def completion(body: dict[str, Any], p: Plan) -> dict[str, Any]:
    """The chat completion answering ``body`` (not streamed)."""
    message: dict[str, Any] = {"role": "assistant", "content": p.text, "refusal": None}
    if p.tool_calls:
        message["tool_calls"] = p.tool_calls
    return {
        "id": f"chatcmpl-demo{next(ids):08d}",
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model"),
        "system_fingerprint": "fp_demo",
        "choices": [{"index": 0, "message": message, "finish_reason": p.finish_reason, "logprobs": None}],
        "usage": usage(p),
    }


def chunks(body: dict[str, Any], p: Plan) -> list[dict[str, Any]]:
    """The chat completion chunks of a streamed answer, the usage chunk last when ``include_usage`` asks for it."""
    base = {"id": f"chatcmpl-demo{next(ids):08d}", "object": "chat.completion.chunk", "created": CREATED,
            "model": body.get("model"), "system_fingerprint": "fp_demo"}  # fmt: skip
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        return {**out, "usage": None} if with_usage else out

    out = [chunk({"role": "assistant", "content": ""})]
    for i, call in enumerate(p.tool_calls):
        out.append(chunk({"tool_calls": [{"index": i, **call}]}))
    pieces = re.findall(r"\S+\s*", p.text or "")
    for start in range(0, len(pieces), 3):
        out.append(chunk({"content": "".join(pieces[start : start + 3])}))
    out.append(chunk({}, p.finish_reason))
    if with_usage:
        out.append({**base, "choices": [], "usage": usage(p)})
    return out


def response(body: dict[str, Any], p: Plan) -> dict[str, Any]:
    """The responses API object answering ``body``."""
    return {
        "id": f"resp_demo{next(ids):08d}",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "model": body.get("model"),
        "output": [
            {
                "type": "message",
                "id": f"msg_demo{next(ids):08d}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": p.text or "", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "instructions": body.get("instructions"),
        "usage": {
            "input_tokens": p.prompt_tokens,
            "input_tokens_details": {"cached_tokens": p.cached_tokens, "cache_write_tokens": 0},
            "output_tokens": p.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": p.reasoning_tokens},
            "total_tokens": p.prompt_tokens + p.completion_tokens,
        },
    }


def error_body(status: int) -> dict[str, Any]:
    """The OpenAI-style error body of a planted 429 or 500."""
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    message = "Rate limit reached (demo provider)" if status == 429 else "The demo provider had an error"
    return {"error": {"message": message, "type": kind, "code": kind, "param": None}}


# --- the Messages API (Anthropic's wire format) -------------------------------------------------------------

#: A chat finish reason as the Messages API says it.
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def message_usage(p: Plan) -> dict[str, Any]:
    """The Messages API ``usage`` of ``p``: its input tokens leave out the cache; a long prompt that was not read
    from the cache is written to it (the next ask of it would read it)."""
    written = (p.prompt_tokens // 2 // 128) * 128 if p.prompt_tokens >= 1024 and not p.cached_tokens else 0
    return {
        "input_tokens": p.prompt_tokens - p.cached_tokens - written,
        "cache_read_input_tokens": p.cached_tokens,
        "cache_creation_input_tokens": written,
        "output_tokens": p.completion_tokens,
    }


def message(body: dict[str, Any], p: Plan) -> dict[str, Any]:
    """The ``Message`` answering a Messages API request (not streamed)."""
    return {
        "id": f"msg_demo{next(ids):08d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": _blocks(p),
        "stop_reason": STOP_REASONS.get(p.finish_reason, "end_turn"),
        "stop_sequence": None,
        "usage": message_usage(p),
    }


def message_events(body: dict[str, Any], p: Plan) -> list[dict[str, Any]]:
    """The events of a streamed ``Message``: its start, each block's start, deltas and stop, the final delta."""
    whole = message(body, p)
    opening = {**whole, "content": [], "stop_reason": None, "usage": {**whole["usage"], "output_tokens": 1}}
    out: list[dict[str, Any]] = [{"type": "message_start", "message": opening}]
    for index, block in enumerate(whole["content"]):
        if block["type"] == "text":
            out.append({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            pieces = re.findall(r"\S+\s*", block["text"])
            for start in range(0, len(pieces), 3):
                delta = {"type": "text_delta", "text": "".join(pieces[start : start + 3])}
                out.append({"type": "content_block_delta", "index": index, "delta": delta})
        else:
            out.append({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            out.append({"type": "content_block_delta", "index": index, "delta": delta})
        out.append({"type": "content_block_stop", "index": index})
    final = {"stop_reason": whole["stop_reason"], "stop_sequence": None}
    out.append({"type": "message_delta", "delta": final, "usage": {"output_tokens": p.completion_tokens}})
    out.append({"type": "message_stop"})
    return out


def _blocks(p: Plan) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": p.text}] if p.text else []
    for call in p.tool_calls:
        function = call["function"]
        blocks.append({"type": "tool_use", "id": "toolu_" + call["id"].removeprefix("call_"),
                       "name": function["name"], "input": json.loads(function["arguments"])})  # fmt: skip
    return blocks


def message_error_body(status: int) -> dict[str, Any]:
    """The Messages API error body of a planted 429 or 500 (Anthropic's 500s are mostly 529 "overloaded")."""
    kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"{kind.replace('_', ' ')} (demo provider)"}}
