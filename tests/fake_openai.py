"""A fake OpenAI API at the HTTP layer: the real ``openai`` client talks to it through httpx2.MockTransport
(httpx.MockTransport for openai 2.x, which takes httpx clients).

Behaviour is chosen by the request's model: ``fail-429`` / ``fail-500`` / ``fail-400`` answer with that status,
``fail-timeout`` / ``fail-connect`` raise the transport error, ``break-stream`` cuts a stream mid-way,
``refuse`` answers with the refusal field. Tool definitions in the request get a tool call back (of the tool
``tool_choice`` names, else the first); a request whose last message is a tool's result gets a call of the next
tool not called yet in the conversation, or a text answer when every tool was called (so an agent's run ends).
A JSON-schema response format (chat ``response_format``, Responses ``text.format``) gets ``{"text": ...}`` back.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import openai
from openai import AsyncOpenAI, OpenAI

if int(openai.__version__.split(".")[0]) >= 3:
    import httpx2
else:  # openai 2.x talks through httpx, whose API httpx2 mirrors (tests/frameworks_openai2/)
    import httpx as httpx2

CREATED = 1_764_000_000
_ids = itertools.count(1)


def reply_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{"content": body.get("input")}]
    last = messages[-1].get("content") if isinstance(messages[-1], dict) else messages[-1]
    if not isinstance(last, str):
        last = json.dumps(last)[:40]
    return f"Echo: {last[:60]} " + "lorem ipsum " * int(body.get("metadata", {}).get("pad", 0) or 0)


def usage(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt = max(1, len(json.dumps(body.get("messages") or body.get("input"))) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": max(1, len(text) // 4) + 8,
        "total_tokens": prompt + len(text) // 4 + 8,
        "prompt_tokens_details": {"cached_tokens": prompt // 2, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 8, "audio_tokens": 0},
    }


def tool_to_call(body: dict[str, Any]) -> str | None:
    """The name of the tool the fake model calls, or None for a text answer."""
    tools = body.get("tools")
    if not tools:
        return None
    names = [tool["function"]["name"] if "function" in tool else tool.get("name") for tool in tools]
    choice = body.get("tool_choice")
    forced = (choice.get("function") or choice).get("name") if isinstance(choice, dict) else None
    if forced:  # {"type": "function", "function": {"name": ...}} (chat) or {"type": "function", "name": ...}
        return str(forced)
    items = _conversation(body)
    if not items or not _is_tool_result(items[-1]):
        return names[0]
    called = {name for item in items for name in _called_tools(item)}
    return next((name for name in names if name not in called), None)


def _conversation(body: dict[str, Any]) -> list[Any]:
    return list(body.get("messages") or (body["input"] if isinstance(body.get("input"), list) else []))


def call_suffix(body: dict[str, Any]) -> str:
    """ "" for the conversation's first tool call, "_2", "_3"... after it: call ids stay unique in a run."""
    earlier = sum(len(_called_tools(item)) for item in _conversation(body))
    return f"_{earlier + 1}" if earlier else ""


def _is_tool_result(item: Any) -> bool:
    return isinstance(item, dict) and (item.get("role") == "tool" or item.get("type") == "function_call_output")


def _called_tools(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return []
    if item.get("type") == "function_call":
        return [item["name"]]
    return [call["function"]["name"] for call in item.get("tool_calls") or ()]


def wants_json(body: dict[str, Any]) -> bool:
    """A JSON-schema structured output was asked for (chat ``response_format`` or Responses ``text.format``)."""
    chat_format = body.get("response_format") or {}
    responses_format = (body.get("text") or {}).get("format") or {}
    return "json_schema" in (chat_format.get("type"), responses_format.get("type"))


def tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    name = tool_to_call(body)
    if name is None:
        return None
    return {
        "id": "call_abc123" + call_suffix(body),
        "type": "function",
        "function": {"name": name, "arguments": '{"city": "Paris"}'},
    }


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    text = reply_text(body)
    if wants_json(body):
        text = json.dumps({"text": text})  # structured output for .parse()
    call = tool_call(body)
    refused = body["model"] == "refuse"
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if (call or refused) else text,
        "refusal": None,
    }
    if refused:
        message["refusal"] = "I can't help with that."
    if call:
        message["tool_calls"] = [call]
    return {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-5-mini-2025-08-07" if body["model"] == "gpt-5-mini" else body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
        "usage": usage(body, text),
    }


def chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    text = reply_text(body)
    if wants_json(body):
        text = json.dumps({"text": text})
    call = tool_call(body)
    base = {
        "id": f"chatcmpl-stream{next(_ids)}",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": body["model"],
    }
    with_usage = (body.get("stream_options") or {}).get("include_usage")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if with_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": ""})]
    if call:
        fn = call["function"]
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": fn["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        for piece in (fn["arguments"][:5], fn["arguments"][5:]):
            chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    else:
        third = max(1, len(text) // 3)
        for piece in (text[:third], text[third : 2 * third], text[2 * third :]):
            chunks.append(chunk({"content": piece}))
    chunks.append(chunk({}, "tool_calls" if call else "stop"))
    if with_usage:
        chunks.append({**base, "choices": [], "usage": usage(body, text)})
    return chunks  # fmt: skip


def response_object(body: dict[str, Any]) -> dict[str, Any]:
    text = reply_text(body)
    if wants_json(body):
        text = json.dumps({"text": text})
    u = usage(body, text)
    return {
        "id": f"resp_fake{next(_ids)}",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "model": body["model"],
        "output": [
            response_function_call(body)
            or {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "instructions": body.get("instructions"),
        "usage": {
            "input_tokens": u["prompt_tokens"],
            "input_tokens_details": {
                "cached_tokens": u["prompt_tokens_details"]["cached_tokens"],
                "cache_write_tokens": 0,
            },
            "output_tokens": u["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 8},
            "total_tokens": u["total_tokens"],
        },
    }


def response_function_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """Responses API tools (``{"type": "function", "name": ...}``) get a function call as the only output."""
    tools = body.get("tools")
    if not tools or "name" not in tools[0]:
        return None
    name = tool_to_call(body)
    if name is None:
        return None
    suffix = call_suffix(body)
    return {"type": "function_call", "id": "fc_1" + suffix, "call_id": "call_fc1" + suffix, "name": name,
            "arguments": '{"city": "Paris"}', "status": "completed"}  # fmt: skip


def response_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    final = response_object(body)
    item = final["output"][0]
    if item["type"] == "function_call":
        started = {**final, "status": "in_progress", "output": [], "usage": None}
        args = item["arguments"]
        return [
            {"type": "response.created", "sequence_number": 0, "response": started},
            {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
             "item": {**item, "arguments": "", "status": "in_progress"}},
            {"type": "response.function_call_arguments.delta", "sequence_number": 2, "item_id": item["id"],
             "output_index": 0, "delta": args[:5]},
            {"type": "response.function_call_arguments.delta", "sequence_number": 3, "item_id": item["id"],
             "output_index": 0, "delta": args[5:]},
            {"type": "response.function_call_arguments.done", "sequence_number": 4, "item_id": item["id"],
             "output_index": 0, "arguments": args, "name": item["name"]},
            {"type": "response.output_item.done", "sequence_number": 5, "output_index": 0, "item": item},
            {"type": "response.completed", "sequence_number": 6, "response": final},
        ]  # fmt: skip
    text = item["content"][0]["text"]
    started = {**final, "status": "in_progress", "output": [], "usage": None}
    empty = {"type": "output_text", "text": "", "annotations": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "sequence_number": 0, "response": started},
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
         "item": {**item, "status": "in_progress", "content": []}},
        {"type": "response.content_part.added", "sequence_number": 2, "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "part": empty},
    ]  # fmt: skip
    for i, piece in enumerate((text[:10], text[10:])):
        events.append(
            {"type": "response.output_text.delta", "sequence_number": i + 3, "item_id": "msg_1",
             "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []}
        )  # fmt: skip
    events.append({"type": "response.output_item.done", "sequence_number": 8, "output_index": 0, "item": item})
    events.append({"type": "response.completed", "sequence_number": 9, "response": final})
    return events


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {
        "object": "list",
        "model": body["model"],
        "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3, 0.4]} for i in range(len(inputs))],
        "usage": {"prompt_tokens": 5 * len(inputs), "total_tokens": 5 * len(inputs)},
    }


def sse(events: list[dict[str, Any]], *, done: bool = True, break_after: int | None = None) -> Iterator[bytes]:
    for i, event in enumerate(events):
        if break_after is not None and i == break_after:
            raise httpx2.ReadError("connection reset by peer")
        yield f"data: {json.dumps(event)}\n\n".encode()
    if done:
        yield b"data: [DONE]\n\n"


class FakeOpenAI:
    """The handler behind MockTransport; keeps every request body it saw."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        #: The body of every whole (not streamed) response sent.
        self.responses: list[bytes] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        response = self._respond(request)
        if response.headers.get("content-type") == "application/json":
            self.responses.append(response.content)
        return response

    def _respond(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        model = str(body.get("model", ""))
        if model.startswith("fail-"):
            return self._failure(request, model.removeprefix("fail-"))
        path = request.url.path
        streaming = bool(body.get("stream"))
        if path.endswith("/chat/completions"):
            if streaming:
                return self._stream(request, chat_chunks(body), break_after=3 if model == "break-stream" else None)
            return httpx2.Response(200, json=chat_completion(body), request=request)
        if path.endswith("/responses"):
            if streaming:
                return self._stream(request, response_events(body), done=False)
            return httpx2.Response(200, json=response_object(body), request=request)
        if path.endswith("/embeddings"):
            return httpx2.Response(200, json=embeddings(body), request=request)
        return httpx2.Response(404, json={"error": {"message": f"no route {path}"}}, request=request)

    def _stream(
        self, request: httpx2.Request, events: list[dict[str, Any]], *, done: bool = True,
        break_after: int | None = None,
    ) -> httpx2.Response:  # fmt: skip
        content = b"".join(sse(events, done=done)) if break_after is None else sse(events, break_after=break_after)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content, request=request)

    def _failure(self, request: httpx2.Request, kind: str) -> httpx2.Response:
        if kind == "timeout":
            raise httpx2.ReadTimeout("timed out", request=request)
        if kind == "connect":
            raise httpx2.ConnectError("connection refused", request=request)
        status = int(kind)
        error = {"error": {"message": f"fake {status}", "type": "fake_error", "code": str(status)}}
        return httpx2.Response(status, json=error, request=request)


def clients(fake: FakeOpenAI) -> tuple[OpenAI, AsyncOpenAI]:
    """A real sync and async openai client whose HTTP goes to ``fake``."""
    transport = httpx2.MockTransport(fake)
    sync = OpenAI(
        api_key="sk-test",
        base_url="http://fake/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    async_ = AsyncOpenAI(
        api_key="sk-test",
        base_url="http://fake/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    return sync, async_  # fmt: skip


class FakeServer:
    """The same fake behind a real local HTTP server, for code that builds its own ``OpenAI()`` from the
    environment (OPENAI_BASE_URL), like the seed guide's module-level client."""

    def __init__(self, fake: FakeOpenAI) -> None:
        import http.server
        import threading

        handler_fake = fake

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = httpx2.Request("POST", f"http://fake{self.path}", content=body)
                response = handler_fake(request)
                payload = response.read()
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding"}:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
