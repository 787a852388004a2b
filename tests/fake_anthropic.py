"""A fake Anthropic Messages API at the HTTP layer: the real ``anthropic`` client talks to it through
httpx2.MockTransport.

Behaviour is chosen by the request's model: ``fail-429`` / ``fail-500`` / ``fail-529`` answer with that status
(529 is Anthropic's "overloaded"), ``break-stream`` cuts a stream mid-way, ``refuse`` stops with
``stop_reason: "refusal"``. Tool definitions in the request get a tool use back; ``thinking`` in the request gets
a thinking block first; an output format gets ``{"city": "Paris"}``. Every answer reads 1,200 tokens from the
prompt cache and writes 300 to it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx2
from anthropic import Anthropic, AsyncAnthropic

_ids = itertools.count(1)
CACHE_READ = 1200
CACHE_WRITE = 300
THINKING = "The user wants a plan. Let me think step by step."


def reply_text(body: dict[str, Any]) -> str:
    last = body["messages"][-1]["content"]
    if not isinstance(last, str):
        last = " ".join(b.get("text", "") for b in last if isinstance(b, dict)) or json.dumps(last)[:40]
    return f"Echo: {last[:60]}"


def usage(body: dict[str, Any], output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": max(1, len(json.dumps(body["messages"])) // 4),
        "output_tokens": output_tokens,
        "cache_read_input_tokens": CACHE_READ,
        "cache_creation_input_tokens": CACHE_WRITE,
        "output_tokens_details": {"thinking_tokens": 40 if body.get("thinking") else 0},
    }


def blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if body.get("thinking"):
        out.append({"type": "thinking", "thinking": THINKING, "signature": "sig-abc"})
    if body.get("tools"):
        name = body["tools"][0]["name"]
        out.append({"type": "tool_use", "id": "toolu_01", "name": name, "input": {"city": "Paris"}})
    elif body["model"] == "refuse":
        out.append({"type": "text", "text": "I can't help with that."})
    elif (body.get("output_config") or {}).get("format"):  # structured output (messages.parse)
        out.append({"type": "text", "text": json.dumps({"city": "Paris"})})
    else:
        out.append({"type": "text", "text": reply_text(body)})
    return out


def stop_reason(body: dict[str, Any]) -> str:
    return "tool_use" if body.get("tools") else "refusal" if body["model"] == "refuse" else "end_turn"


def message(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001" if body["model"] == "claude-haiku-4-5" else body["model"],
        "content": blocks(body),
        "stop_reason": stop_reason(body),
        "stop_sequence": None,
        "usage": usage(body, 25),
    }


def events(body: dict[str, Any]) -> list[dict[str, Any]]:
    whole = message(body)
    start = {**whole, "content": [], "stop_reason": None, "usage": {**whole["usage"], "output_tokens": 1}}
    out: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(whole["content"]):
        if block["type"] == "text":
            out.append({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            words = block["text"].split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else " " + word
                out.append(
                    {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
                )
        elif block["type"] == "thinking":
            out.append({"type": "content_block_start", "index": index,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""}})  # fmt: skip
            out.append({"type": "content_block_delta", "index": index,
                        "delta": {"type": "thinking_delta", "thinking": block["thinking"]}})  # fmt: skip
            out.append({"type": "content_block_delta", "index": index,
                        "delta": {"type": "signature_delta", "signature": block["signature"]}})  # fmt: skip
        else:
            out.append({"type": "content_block_start", "index": index,
                        "content_block": {**block, "input": {}}})  # fmt: skip
            arguments = json.dumps(block["input"])
            for piece in (arguments[:5], arguments[5:]):
                out.append({"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece}})  # fmt: skip
        out.append({"type": "content_block_stop", "index": index})
    out.append({"type": "message_delta", "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": whole["usage"]["output_tokens"]}})  # fmt: skip
    out.append({"type": "message_stop"})
    return out


def sse(items: list[dict[str, Any]], *, break_after: int | None = None) -> Iterator[bytes]:
    for i, event in enumerate(items):
        if break_after is not None and i == break_after:
            raise httpx2.ReadError("connection reset by peer")
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


class FakeAnthropic:
    """The handler behind MockTransport; keeps every request body it saw."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        #: The body of every whole (not streamed) response sent.
        self.responses: list[bytes] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        model = str(body.get("model", ""))
        if model.startswith("fail-"):
            status = int(model.removeprefix("fail-"))
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
            error = {"type": "error", "error": {"type": kind, "message": f"fake {status}"}}
            return httpx2.Response(status, json=error, request=request)
        if not request.url.path.endswith("/v1/messages"):
            return httpx2.Response(404, json={"type": "error", "error": {"message": "no route"}}, request=request)
        if body.get("stream"):
            cut = 4 if model == "break-stream" else None
            items = events(body)
            content = b"".join(sse(items)) if cut is None else sse(items, break_after=cut)
            headers = {"content-type": "text/event-stream"}
            return httpx2.Response(200, headers=headers, content=content, request=request)
        response = httpx2.Response(200, json=message(body), request=request)
        self.responses.append(response.content)
        return response


def clients(fake: FakeAnthropic) -> tuple[Anthropic, AsyncAnthropic]:
    """A real sync and async anthropic client whose HTTP goes to ``fake``."""
    transport = httpx2.MockTransport(fake)
    sync = Anthropic(api_key="sk-ant-test", base_url="http://fake", max_retries=0,
                     http_client=httpx2.Client(transport=transport))  # fmt: skip
    async_ = AsyncAnthropic(api_key="sk-ant-test", base_url="http://fake", max_retries=0,
                            http_client=httpx2.AsyncClient(transport=transport))  # fmt: skip
    return sync, async_
