"""pydantic-ai: ``OpenAIProvider(openai_client=obs.wrap(AsyncOpenAI(...)))`` records every model request of an
agent run, on the Chat Completions and the Responses model. The real pydantic-ai and openai SDK, the fake at the
HTTP layer, a real SQLite store; each run is compared with the same run without obs."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.result import StreamedRunResult
from pydantic_ai.usage import RunUsage

import obs
from obs.records import LLMCall
from tests.capture_rig import Rig
from tests.fake_openai import clients

QUESTION = "Weather in Paris?"
INSTRUCTIONS = "You answer questions about the weather."
MODELS = pytest.mark.parametrize("model_class", [OpenAIChatModel, OpenAIResponsesModel])
ModelClass = type[OpenAIChatModel] | type[OpenAIResponsesModel]
#: The finish reasons of a tool call and of the answer after it, as each API says them.
FINISH = {OpenAIChatModel: ("tool_calls", "stop"), OpenAIResponsesModel: ("completed", "completed")}


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url  # what a framework sends is the subject here, not the store's dialect


class Weather(pydantic.BaseModel):
    city: str


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def agent(model_class: ModelClass, client: AsyncOpenAI, **kwargs: Any) -> Agent[None, Any]:
    model = model_class("gpt-5-mini", provider=OpenAIProvider(openai_client=client))
    return Agent(model, instructions=INSTRUCTIONS, tools=[get_weather], **kwargs)


def plain_client(rig: Rig) -> AsyncOpenAI:
    return clients(rig.fake)[1]


def tool_names(call: LLMCall) -> list[str]:
    assert call.content is not None
    return [(c.get("function") or c)["name"] for c in call.content.tool_calls or ()]


def assert_recorded_like_pydantic_ai_saw_it(stored: list[LLMCall], messages: list[Any], usage: RunUsage) -> None:
    """Each stored call is one of the run's model responses, with its usage; obs's cost is pydantic-ai's cost."""
    responses = [m for m in messages if isinstance(m, ModelResponse)]
    assert len(stored) == len(responses) == usage.requests
    for call, response in zip(stored, responses, strict=True):
        assert call.model == "gpt-5-mini" and call.response_model == response.model_name and call.status == "ok"
        assert call.prompt_tokens == response.usage.input_tokens
        assert call.completion_tokens == response.usage.output_tokens
        assert call.cached_tokens == response.usage.cache_read_tokens
        assert call.reasoning_tokens == response.usage.details["reasoning_tokens"] == 8
        assert call.content is not None and call.content.response["id"] == response.provider_response_id
        assert call.content.system_prompt == INSTRUCTIONS
    assert sum((c.cost_usd or Decimal(0) for c in stored), Decimal(0)) == usage.cost  # both price with genai-prices
    assert all(c.cost_usd for c in stored)


@MODELS
def test_a_run_with_a_tool_records_both_requests_and_the_tool_call(rig: Rig, model_class: ModelClass) -> None:
    plain = agent(model_class, plain_client(rig)).run_sync(QUESTION)
    with obs.trace("pydantic-ai run", feature="weather") as t:
        result = agent(model_class, obs.wrap(plain_client(rig))).run_sync(QUESTION)
    assert result.output == plain.output and result.output.startswith("Echo: ")
    assert result.usage == plain.usage
    stored = rig.calls(t.trace_id)
    assert_recorded_like_pydantic_ai_saw_it(stored, result.all_messages(), result.usage)
    first, second = stored
    assert tool_names(first) == ["get_weather"] and tool_names(second) == []
    assert first.content is not None and first.content.output_text is None
    assert second.content is not None and second.content.output_text == result.output
    assert (first.finish_reason, second.finish_reason) == FINISH[model_class]
    assert {c.feature for c in stored} == {"weather"} and not any(c.stream for c in stored)


@MODELS
def test_run_stream_records_both_streams_with_first_token_times(rig: Rig, model_class: ModelClass) -> None:
    async def run_stream(target: Agent[None, Any]) -> tuple[list[str], StreamedRunResult[None, Any]]:
        async with target.run_stream(QUESTION) as stream:
            deltas = [delta async for delta in stream.stream_text(delta=True)]
            return deltas, stream

    plain_deltas, plain = asyncio.run(run_stream(agent(model_class, plain_client(rig))))
    with obs.trace("pydantic-ai run_stream") as t:
        deltas, result = asyncio.run(run_stream(agent(model_class, rig.aclient)))
    assert deltas == plain_deltas and "".join(deltas).startswith("Echo: ")
    assert result.usage == plain.usage
    stored = rig.calls(t.trace_id)
    assert_recorded_like_pydantic_ai_saw_it(stored, result.all_messages(), result.usage)
    first, second = stored
    assert tool_names(first) == ["get_weather"]
    assert second.content is not None and second.content.output_text == "".join(deltas)
    assert (first.finish_reason, second.finish_reason) == FINISH[model_class]
    for call in stored:
        assert call.stream and call.latency_ms_first_token is not None and call.latency_ms is not None
        assert call.latency_ms_first_token <= call.latency_ms


@MODELS
def test_structured_output_after_a_tool_is_recorded_as_the_output_tool_call(rig: Rig, model_class: ModelClass) -> None:
    plain = agent(model_class, plain_client(rig), output_type=Weather).run_sync(QUESTION)
    with obs.trace("pydantic-ai structured") as t:
        result = agent(model_class, rig.aclient, output_type=Weather).run_sync(QUESTION)
    assert result.output == plain.output == Weather(city="Paris")
    stored = rig.calls(t.trace_id)
    assert_recorded_like_pydantic_ai_saw_it(stored, result.all_messages(), result.usage)
    assert [tool_names(c) for c in stored] == [["get_weather"], ["final_result"]]
    last = stored[-1]
    assert last.content is not None and last.content.tools is not None
    assert {(t.get("function") or t)["name"] for t in last.content.tools} == {"get_weather", "final_result"}
