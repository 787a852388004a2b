"""openai-agents: ``set_default_openai_client(obs.wrap(AsyncOpenAI(...)))`` (or a model's ``openai_client``)
records every model call of a run. The real Agents SDK and openai SDK, the fake at the HTTP layer, a real SQLite
store; each run is compared with the same run without obs. Tracing is off: nothing is exported to OpenAI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    RunResult,
    RunResultStreaming,
    function_tool,
    set_default_openai_client,
    set_tracing_disabled,
)
from agents.models import _openai_shared
from openai import AsyncOpenAI

import obs
from obs.records import LLMCall
from tests.capture_rig import Rig, gpt5_mini_cost
from tests.fake_openai import clients

QUESTION = "Weather in Paris?"
INSTRUCTIONS = "You answer questions about the weather."
RESPONSES_CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_fc1", "name": "get_weather",
                  "arguments": '{"city": "Paris"}', "status": "completed"}  # fmt: skip
CHAT_CALL = {"id": "call_abc123", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}  # fmt: skip


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url  # what a framework sends is the subject here, not the store's dialect


@pytest.fixture(autouse=True)
def no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)  # the SDK would export its traces to OpenAI
    previous = _openai_shared.get_default_openai_client()
    yield
    if previous is not None:
        set_default_openai_client(previous, use_for_tracing=False)


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


class Forecast(pydantic.BaseModel):
    text: str


def agent(model: str | Model, **kwargs: Any) -> Agent[Any]:
    return Agent(name="weather", instructions=INSTRUCTIONS, model=model, tools=[get_weather], **kwargs)


def plain_client(rig: Rig) -> AsyncOpenAI:
    return clients(rig.fake)[1]


def run(target: Agent[Any]) -> RunResult:
    return asyncio.run(Runner.run(target, QUESTION))


def run_streamed(target: Agent[Any]) -> tuple[RunResultStreaming, list[str]]:
    async def go() -> tuple[RunResultStreaming, list[str]]:
        result = Runner.run_streamed(target, QUESTION)
        events = [event.type async for event in result.stream_events()]
        return result, events

    return asyncio.run(go())


def assert_usage_matches(stored: list[LLMCall], result: RunResult | RunResultStreaming) -> None:
    """Each stored call has the usage the SDK read from the same response, and is priced from it."""
    assert len(stored) == len(result.raw_responses) == 2
    for call, response in zip(stored, result.raw_responses, strict=True):
        usage = response.usage
        assert call.model == "gpt-5-mini" and call.status == "ok"
        assert (call.prompt_tokens, call.completion_tokens) == (usage.input_tokens, usage.output_tokens)
        assert call.cached_tokens == usage.input_tokens_details.cached_tokens
        assert call.reasoning_tokens == usage.output_tokens_details.reasoning_tokens == 8
        assert call.cost_usd == gpt5_mini_cost(call) and call.cost_usd > 0
    total = result.context_wrapper.usage
    assert sum(c.prompt_tokens or 0 for c in stored) == total.input_tokens
    assert sum(c.completion_tokens or 0 for c in stored) == total.output_tokens


def assert_responses_tool_round_trip(first: LLMCall, second: LLMCall, final_output: str) -> None:
    assert first.content is not None and first.content.tool_calls == [RESPONSES_CALL]
    assert first.content.output_text is None and first.content.system_prompt == INSTRUCTIONS
    assert first.content.tools is not None and first.content.tools[0]["name"] == "get_weather"
    assert second.content is not None and second.content.tool_calls is None
    assert second.content.output_text == final_output
    results = [m for m in second.content.messages if m.get("type") == "function_call_output"]
    assert results == [{"call_id": "call_fc1", "output": "Sunny in Paris", "type": "function_call_output"}]
    assert first.finish_reason == second.finish_reason == "completed"


def test_runner_run_on_the_default_responses_model_records_both_calls_and_the_tool_call(rig: Rig) -> None:
    plain = run(agent(OpenAIResponsesModel("gpt-5-mini", plain_client(rig))))
    set_default_openai_client(obs.wrap(plain_client(rig)), use_for_tracing=False)  # the README's one line
    with obs.trace("agents run", user_id="u1") as t:
        result = run(agent("gpt-5-mini"))
    assert result.final_output == plain.final_output and result.final_output.startswith("Echo: ")
    assert [item.type for item in result.new_items] == [item.type for item in plain.new_items]
    stored = rig.calls(t.trace_id)
    assert_usage_matches(stored, result)
    first, second = stored
    assert_responses_tool_round_trip(first, second, result.final_output)
    assert {c.trace_id for c in stored} == {t.trace_id} and {c.user_id for c in stored} == {"u1"}
    assert not first.stream and not second.stream and first.latency_ms_first_token is None
    assert first.content is not None and first.content.response["id"] == result.raw_responses[0].response_id


def test_runner_run_streamed_on_responses_records_both_streams_with_first_token_times(rig: Rig) -> None:
    plain, plain_events = run_streamed(agent(OpenAIResponsesModel("gpt-5-mini", plain_client(rig))))
    with obs.trace("agents run_streamed") as t:
        result, events = run_streamed(agent(OpenAIResponsesModel("gpt-5-mini", rig.aclient)))
    assert result.final_output == plain.final_output and events == plain_events
    stored = rig.calls(t.trace_id)
    assert_usage_matches(stored, result)
    first, second = stored
    assert_responses_tool_round_trip(first, second, result.final_output)
    for call in stored:
        assert call.stream and call.latency_ms_first_token is not None and call.latency_ms is not None
        assert call.latency_ms_first_token <= call.latency_ms


def test_runner_run_on_chat_completions_records_both_calls_and_the_tool_call(rig: Rig) -> None:
    plain = run(agent(OpenAIChatCompletionsModel("gpt-5-mini", plain_client(rig))))
    with obs.trace("agents chat") as t:
        result = run(agent(OpenAIChatCompletionsModel("gpt-5-mini", rig.aclient)))
    assert result.final_output == plain.final_output == "Echo: Sunny in Paris "
    stored = rig.calls(t.trace_id)
    assert_usage_matches(stored, result)
    first, second = stored
    assert first.content is not None and first.content.tool_calls == [CHAT_CALL] and first.content.output_text is None
    assert first.finish_reason == "tool_calls" and second.finish_reason == "stop"
    assert first.response_model == "gpt-5-mini-2025-08-07" and first.content.system_prompt == INSTRUCTIONS
    assert second.content is not None and second.content.output_text == result.final_output
    assert second.content.messages[-1] == {"role": "tool", "tool_call_id": "call_abc123", "content": "Sunny in Paris"}


def test_runner_run_streamed_on_chat_completions_records_both_streams(rig: Rig) -> None:
    plain, plain_events = run_streamed(agent(OpenAIChatCompletionsModel("gpt-5-mini", plain_client(rig))))
    with obs.trace("agents chat streamed") as t:
        result, events = run_streamed(agent(OpenAIChatCompletionsModel("gpt-5-mini", rig.aclient)))
    assert result.final_output == plain.final_output == "Echo: Sunny in Paris "
    assert events == plain_events
    first, second = rig.calls(t.trace_id)
    assert first.content is not None and first.content.tool_calls == [CHAT_CALL]
    assert second.content is not None and second.content.output_text == result.final_output
    for call, finish in ((first, "tool_calls"), (second, "stop")):
        assert call.stream and call.finish_reason == finish and call.status == "ok"
        assert call.latency_ms_first_token is not None and call.prompt_tokens and call.completion_tokens
        assert call.cost_usd == gpt5_mini_cost(call)


def test_a_structured_output_type_is_recorded_as_its_json(rig: Rig) -> None:
    forecaster = Agent(name="forecast", instructions=INSTRUCTIONS, output_type=Forecast,
                       model=OpenAIResponsesModel("gpt-5-mini", rig.aclient))  # fmt: skip
    with obs.trace("agents structured") as t:
        result = run(forecaster)
    assert isinstance(result.final_output, Forecast) and result.final_output.text.startswith("Echo: ")
    (call,) = rig.calls(t.trace_id)
    assert call.content is not None and json.loads(call.content.output_text or "") == result.final_output.model_dump()
    assert call.params is not None and call.params["text"]["format"]["type"] == "json_schema"
    assert call.cost_usd == gpt5_mini_cost(call)
