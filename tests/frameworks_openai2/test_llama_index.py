"""llama-index-llms-openai: ``OpenAI(..., openai_client=obs.wrap(openai.OpenAI()),
async_openai_client=obs.wrap(openai.AsyncOpenAI()))`` records every call of the LLM. The real llama-index and
openai 2 SDK, the fake at the HTTP layer, a real SQLite store; each answer is compared with the LLM without obs."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI
from openai2_rig import Rig

import obs
from obs.records import LLMCall

MESSAGES = [ChatMessage(role="system", content="You triage tickets."), ChatMessage(role="user", content="Hello there")]
ANSWER = "Echo: Hello there "


def gpt5_mini_cost(call: LLMCall) -> Decimal:
    assert call.prompt_tokens is not None and call.cached_tokens is not None and call.completion_tokens is not None
    fresh = call.prompt_tokens - call.cached_tokens
    return (fresh * Decimal("0.25") + call.cached_tokens * Decimal("0.025") + call.completion_tokens * 2) / 10**6


def llm(rig: Rig, *, wrapped: bool = True) -> OpenAI:
    sync, async_ = rig.clients(wrapped=wrapped)
    return OpenAI(model="gpt-5-mini", api_key="sk-test", max_retries=0, openai_client=sync, async_openai_client=async_)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def assert_answer_recorded(call: LLMCall, *, stream: bool, raw: Any = None) -> None:
    assert call.model == "gpt-5-mini" and call.status == "ok" and call.finish_reason == "stop"
    assert call.content is not None and call.content.output_text == ANSWER
    assert call.content.messages[-1] == {"role": "user", "content": "Hello there"}
    assert call.prompt_tokens and call.completion_tokens and call.reasoning_tokens == 8
    assert call.cost_usd == gpt5_mini_cost(call) and call.stream is stream
    assert (call.latency_ms_first_token is not None) is stream
    if raw is not None:
        assert call.content.response["id"] == raw.id and call.response_model == raw.model
        assert (call.prompt_tokens, call.completion_tokens) == (raw.usage.prompt_tokens, raw.usage.completion_tokens)
        assert call.cached_tokens == raw.usage.prompt_tokens_details.cached_tokens


def test_complete_and_chat_are_recorded_with_usage_and_cost(rig: Rig) -> None:
    plain = llm(rig, wrapped=False)
    model = llm(rig)
    with obs.trace("llama-index", user_id="u7") as t:
        completed = model.complete("Hello there")
        chatted = model.chat(MESSAGES)
    assert completed.text == plain.complete("Hello there").text == ANSWER
    assert chatted.message.content == plain.chat(MESSAGES).message.content == ANSWER
    first, second = rig.calls(t.trace_id)
    assert_answer_recorded(first, stream=False, raw=completed.raw)
    assert_answer_recorded(second, stream=False, raw=chatted.raw)
    assert first.content is not None and first.content.messages == [{"role": "user", "content": "Hello there"}]
    assert second.content is not None and second.content.system_prompt == "You triage tickets."
    assert first.user_id == second.user_id == "u7"


def test_stream_chat_and_the_async_calls_are_recorded(rig: Rig) -> None:
    async def async_calls(model: OpenAI) -> tuple[str, list[str]]:
        answer = await model.achat(MESSAGES)
        deltas = [chunk.delta or "" async for chunk in await model.astream_chat(MESSAGES)]
        return str(answer.message.content), deltas

    plain = llm(rig, wrapped=False)
    model = llm(rig)
    with obs.trace("llama-index streams") as t:
        deltas = [chunk.delta or "" for chunk in model.stream_chat(MESSAGES)]
        async_answer, async_deltas = asyncio.run(async_calls(model))
    assert deltas == [chunk.delta or "" for chunk in plain.stream_chat(MESSAGES)] and "".join(deltas) == ANSWER
    assert (async_answer, async_deltas) == asyncio.run(async_calls(plain))
    streamed, achat, astreamed = rig.calls(t.trace_id)
    assert_answer_recorded(streamed, stream=True)
    assert_answer_recorded(achat, stream=False)
    assert_answer_recorded(astreamed, stream=True)


def test_chat_with_tools_is_recorded_with_the_tool_call(rig: Rig) -> None:
    tool = FunctionTool.from_defaults(fn=get_weather)
    plain = llm(rig, wrapped=False).chat_with_tools([tool], user_msg="Weather in Paris?")
    model = llm(rig)
    with obs.trace("llama-index tools") as t:
        response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    selections = model.get_tool_calls_from_response(response)
    assert [(s.tool_name, s.tool_kwargs) for s in selections] == [("get_weather", {"city": "Paris"})]
    assert response.message.additional_kwargs == plain.message.additional_kwargs
    (call,) = rig.calls(t.trace_id)
    assert call.finish_reason == "tool_calls" and call.content is not None and call.content.output_text is None
    sent = {"id": "call_abc123", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}  # fmt: skip
    assert call.content.tool_calls == [sent]
    assert call.content.tools is not None and call.content.tools[0]["function"]["name"] == "get_weather"
