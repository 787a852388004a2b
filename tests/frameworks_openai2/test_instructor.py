"""instructor: ``instructor.from_openai(obs.wrap(OpenAI(...)))`` records every attempt it makes, retries included.
The real instructor and openai 2 SDK, the fake at the HTTP layer, a real SQLite store; each answer is compared with
the same call without obs."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import instructor
import pydantic
import pytest
from instructor.core import InstructorRetryException
from openai2_rig import Rig

import obs
from obs.records import LLMCall

QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


class Weather(pydantic.BaseModel):
    city: str


class ShoutedWeather(pydantic.BaseModel):
    city: str

    @pydantic.field_validator("city")
    @classmethod
    def shouted(cls, city: str) -> str:
        if city != city.upper():
            raise ValueError("write the city in capitals")
        return city


class Statement(pydantic.BaseModel):
    text: str

    @pydantic.field_validator("text")
    @classmethod
    def no_question(cls, text: str) -> str:
        if "?" in text:
            raise ValueError("answer with a statement, not a question")
        return text


def gpt5_mini_cost(call: LLMCall) -> Decimal:
    assert call.prompt_tokens is not None and call.cached_tokens is not None and call.completion_tokens is not None
    fresh = call.prompt_tokens - call.cached_tokens
    return (fresh * Decimal("0.25") + call.cached_tokens * Decimal("0.025") + call.completion_tokens * 2) / 10**6


def patched(rig: Rig, *, wrapped: bool = True, **kwargs: Any) -> Any:
    return instructor.from_openai(rig.clients(wrapped=wrapped)[0], **kwargs)


def tool_call(name: str, call_id: str = "call_abc123") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}


def test_create_with_a_response_model_is_recorded_as_its_tool_call(rig: Rig) -> None:
    plain = patched(rig, wrapped=False).chat.completions.create(model="gpt-5-mini", response_model=Weather,
                                                                 messages=QUESTION)  # fmt: skip
    with obs.trace("instructor create", feature="extract") as t:
        weather, completion = patched(rig).chat.completions.create_with_completion(
            model="gpt-5-mini", response_model=Weather, messages=QUESTION
        )
    assert weather.model_dump() == plain.model_dump() == {"city": "Paris"}
    (call,) = rig.calls(t.trace_id)
    assert call.model == "gpt-5-mini" and call.response_model == completion.model and call.feature == "extract"
    assert call.content is not None and call.content.tool_calls == [tool_call("Weather")]
    assert call.content.tools is not None and call.content.tools[0]["function"]["name"] == "Weather"
    assert call.params is not None and call.params["tool_choice"]["function"] == {"name": "Weather"}
    usage = completion.usage
    assert (call.prompt_tokens, call.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert call.cached_tokens == usage.prompt_tokens_details.cached_tokens and call.reasoning_tokens == 8
    assert call.cost_usd == gpt5_mini_cost(call) and call.finish_reason == "tool_calls" and call.status == "ok"
    assert not call.stream and call.content.response["id"] == completion.id


def test_a_retry_after_a_validation_error_is_a_second_recorded_call(rig: Rig) -> None:
    # The fake echoes the last message: the first answer repeats the question and fails validation, the second
    # echoes instructor's correction request and passes.
    options: dict[str, Any] = {
        "model": "gpt-5-mini",
        "response_model": Statement,
        "max_retries": 2,
        "messages": QUESTION,
    }
    plain = patched(rig, wrapped=False, mode=instructor.Mode.JSON_SCHEMA).chat.completions.create(**options)
    with obs.trace("instructor retry") as t:
        answer = patched(rig, mode=instructor.Mode.JSON_SCHEMA).chat.completions.create(**options)
    assert answer.model_dump() == plain.model_dump() and answer.text.startswith("Echo: Correct your JSON")
    first, second = rig.calls(t.trace_id)
    assert first.content is not None
    assert json.loads(first.content.output_text or "") == {"text": "Echo: Weather in Paris? "}
    assert second.content is not None and json.loads(second.content.output_text or "") == answer.model_dump()
    retry_request = second.content.messages
    assert retry_request[:2] == [*QUESTION, {"role": "assistant", "content": first.content.output_text}]
    assert "answer with a statement, not a question" in retry_request[2]["content"]
    for call in (first, second):
        assert call.status == "ok" and call.finish_reason == "stop" and call.cost_usd == gpt5_mini_cost(call)


def test_retries_that_never_validate_are_all_recorded_and_the_error_is_unchanged(rig: Rig) -> None:
    options: dict[str, Any] = {"model": "gpt-5-mini", "response_model": ShoutedWeather, "max_retries": 1,
                               "messages": QUESTION}  # fmt: skip
    with pytest.raises(InstructorRetryException) as plain:
        patched(rig, wrapped=False).chat.completions.create(**options)
    with obs.trace("instructor gives up") as t, pytest.raises(InstructorRetryException) as recorded:
        patched(rig).chat.completions.create(**options)
    assert recorded.value.n_attempts == plain.value.n_attempts == 2
    first, second = rig.calls(t.trace_id)
    assert first.content is not None and first.content.tool_calls == [tool_call("ShoutedWeather")]
    assert second.content is not None and second.content.tool_calls == [tool_call("ShoutedWeather", "call_abc123_2")]
    assert "write the city in capitals" in json.dumps(second.content.messages)
    assert first.status == second.status == "ok"  # the provider answered: the validation failed in the app


def test_create_partial_streams_are_recorded_with_their_usage(rig: Rig) -> None:
    options: dict[str, Any] = {"model": "gpt-5-mini", "response_model": Weather, "messages": QUESTION}
    plain = list(patched(rig, wrapped=False).chat.completions.create_partial(**options))
    with obs.trace("instructor partial") as t:
        partials = list(patched(rig).chat.completions.create_partial(**options))
    assert [p.model_dump() for p in partials] == [p.model_dump() for p in plain] and partials[-1].city == "Paris"
    (call,) = rig.calls(t.trace_id)
    assert call.stream and call.latency_ms_first_token is not None and call.finish_reason == "tool_calls"
    assert call.content is not None and call.content.tool_calls == [tool_call("PartialWeather")]
    assert call.prompt_tokens and call.completion_tokens and call.cost_usd == gpt5_mini_cost(call)


def test_the_async_client_is_recorded(rig: Rig) -> None:
    client = instructor.from_openai(rig.clients()[1])

    async def run() -> Weather:
        return await client.chat.completions.create(model="gpt-5-mini", response_model=Weather, messages=QUESTION)

    with obs.trace("instructor async") as t:
        weather = asyncio.run(run())
    (call,) = rig.calls(t.trace_id)
    assert weather.model_dump() == {"city": "Paris"} and call.content is not None
    assert call.content.tool_calls == [tool_call("Weather")] and call.cost_usd == gpt5_mini_cost(call)
