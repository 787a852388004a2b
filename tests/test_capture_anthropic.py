"""Wrapped Anthropic clients: the real anthropic client, a fake Messages API at the HTTP layer, a real store."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import anthropic
import genai_prices
import httpx2
import pytest

import obs
from obs.records import LLMCall
from tests.capture_rig import AnthropicRig
from tests.fake_anthropic import CACHE_READ, CACHE_WRITE, THINKING

MODEL = "claude-haiku-4-5"
ASK = [{"role": "user", "content": "Plan my trip to Paris"}]
WEATHER = [{"name": "get_weather", "description": "Weather of a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]  # fmt: skip


def expected_cost(call: LLMCall) -> Decimal:
    """What genai-prices bills for the call's tokens: cache reads and writes at their own rates."""
    usage = genai_prices.Usage(
        input_tokens=call.prompt_tokens, cache_read_tokens=call.cached_tokens,
        cache_write_tokens=call.cache_write_tokens, output_tokens=call.completion_tokens,
    )  # fmt: skip
    return genai_prices.calc_price(usage, MODEL, provider_id="anthropic").total_price


def test_a_message_is_recorded_with_its_system_prompt_usage_cache_tokens_and_cost(anthropic_rig: AnthropicRig) -> None:
    rig = anthropic_rig
    with obs.trace("plan", user_id="u7", feature="trip_planner") as t:
        message = rig.client.messages.create(model=MODEL, max_tokens=200, system="You plan trips.", messages=ASK,
                                             extra_body={"temperature": 0.3})  # fmt: skip
    call = rig.only_call(t.trace_id)
    assert message.content[0].type == "text" and message.content[0].text == "Echo: Plan my trip to Paris"
    assert (call.provider, call.model, call.response_model) == ("anthropic", MODEL, "claude-haiku-4-5-20251001")
    assert (call.user_id, call.feature, call.status, call.stream) == ("u7", "trip_planner", "ok", False)
    assert call.finish_reason == "end_turn" and not call.is_refusal
    assert call.temperature == 0.3 and call.params == {"model": MODEL, "max_tokens": 200, "temperature": 0.3}
    # Anthropic's input_tokens leaves out the cache: the record's prompt counts all three parts.
    assert call.prompt_tokens == message.usage.input_tokens + CACHE_READ + CACHE_WRITE
    assert (call.cached_tokens, call.cache_write_tokens) == (CACHE_READ, CACHE_WRITE)
    assert call.completion_tokens == message.usage.output_tokens and call.reasoning_tokens == 0
    assert call.cost_usd is not None and call.cost_usd == expected_cost(call)
    fresh = message.usage.input_tokens
    by_hand = (fresh * Decimal(1) + CACHE_READ * Decimal("0.1") + CACHE_WRITE * Decimal("1.25") + 25 * 5) / 10**6
    assert call.cost_usd == by_hand  # $1 input, $0.10 read, $1.25 write, $5 output per million
    assert call.content is not None
    assert call.content.system_prompt == "You plan trips." and call.content.messages == ASK
    assert call.content.output_text == "Echo: Plan my trip to Paris"
    assert call.content.response == json.loads(rig.fake.responses[-1])  # the provider's body, as sent
    assert call.latency_ms is not None and call.latency_ms_first_token is None
    assert obs.get_call_id(message) == call.id


def test_a_system_prompt_given_as_blocks_is_stored_as_its_text(anthropic_rig: AnthropicRig) -> None:
    system = [{"type": "text", "text": "You plan trips."},
              {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]  # fmt: skip
    with obs.trace("blocks") as t:
        anthropic_rig.client.messages.create(model=MODEL, max_tokens=50, system=system, messages=ASK)
    call = anthropic_rig.only_call(t.trace_id)
    assert call.content is not None and call.content.system_prompt == "You plan trips.\nBe brief."
    assert "system" not in (call.params or {})


def test_an_async_message_is_recorded(anthropic_rig: AnthropicRig) -> None:
    async def ask() -> Any:
        with obs.trace("async") as t:
            message = await anthropic_rig.aclient.messages.create(model=MODEL, max_tokens=50, messages=ASK)
        return t.trace_id, message

    trace_id, message = asyncio.run(ask())
    call = anthropic_rig.only_call(trace_id)
    assert call.content is not None and call.content.output_text == message.content[0].text
    assert call.prompt_tokens == message.usage.input_tokens + CACHE_READ + CACHE_WRITE


def _stored_stream(call: LLMCall, text: str) -> None:
    assert call.stream and call.status == "ok" and call.finish_reason == "end_turn"
    assert call.content is not None and call.content.output_text == text
    assert (call.cached_tokens, call.cache_write_tokens, call.completion_tokens) == (CACHE_READ, CACHE_WRITE, 25)
    assert call.cost_usd == expected_cost(call)
    assert call.latency_ms_first_token is not None and call.latency_ms is not None
    assert call.latency_ms_first_token <= call.latency_ms


def test_a_stream_is_recorded_whole_with_ttft_and_the_caller_sees_every_event(anthropic_rig: AnthropicRig) -> None:
    rig = anthropic_rig
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 50, "messages": ASK, "stream": True}
    expected = [e.to_dict() for e in rig.plain.messages.create(**kwargs)]
    with obs.trace("stream") as t:
        seen = [e.to_dict() for e in rig.client.messages.create(**kwargs)]
    assert [{k: v for k, v in e.items() if k != "message"} for e in seen] == [
        {k: v for k, v in e.items() if k != "message"} for e in expected]  # fmt: skip
    call = rig.only_call(t.trace_id)
    _stored_stream(call, "Echo: Plan my trip to Paris")
    assert call.content is not None and call.content.response["content"] == [
        {"type": "text", "text": "Echo: Plan my trip to Paris"}]  # fmt: skip


def test_the_stream_helper_is_recorded_sync_and_async(anthropic_rig: AnthropicRig) -> None:
    rig = anthropic_rig
    with obs.trace("helper") as t, rig.client.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    with rig.plain.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as plain_stream:
        unwrapped = plain_stream.get_final_message()
    assert text == "Echo: Plan my trip to Paris" and final.content == unwrapped.content
    assert final.usage == unwrapped.usage
    _stored_stream(rig.only_call(t.trace_id), text)

    async def ask() -> tuple[str, str]:
        with obs.trace("helper async") as t:
            async with rig.aclient.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as stream:
                return t.trace_id, await stream.get_final_text()

    trace_id, text = asyncio.run(ask())
    _stored_stream(rig.only_call(trace_id), text)


def test_an_async_stream_is_recorded(anthropic_rig: AnthropicRig) -> None:
    async def ask() -> tuple[str, list[Any]]:
        with obs.trace("astream") as t:
            stream = await anthropic_rig.aclient.messages.create(model=MODEL, max_tokens=50, messages=ASK,
                                                                 stream=True)  # fmt: skip
            return t.trace_id, [event async for event in stream]

    trace_id, events = asyncio.run(ask())
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    _stored_stream(anthropic_rig.only_call(trace_id), "Echo: Plan my trip to Paris")


def test_a_stream_left_early_is_recorded_as_abandoned(anthropic_rig: AnthropicRig) -> None:
    with obs.trace("left") as t, anthropic_rig.client.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as s:
        next(iter(s))
    call = anthropic_rig.only_call(t.trace_id)
    assert call.status == "error" and call.error_type == "StreamAbandoned"


def test_tool_use_is_stored_as_the_calls_tool_calls_whole_and_streamed(anthropic_rig: AnthropicRig) -> None:
    rig = anthropic_rig
    with obs.trace("tools") as t:
        message = rig.client.messages.create(model=MODEL, max_tokens=50, messages=ASK, tools=WEATHER)
        tool_use = message.content[0]
        assert tool_use.type == "tool_use"
        follow_up = [*ASK, {"role": "assistant", "content": [tool_use.model_dump(exclude_none=True)]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id,
                                                   "content": "18C and sunny"}]}]  # fmt: skip
        with rig.client.messages.stream(model=MODEL, max_tokens=50, messages=follow_up, tools=WEATHER) as stream:
            streamed = stream.get_final_message()
    whole, stream_call = sorted(rig.trace(t.trace_id).calls, key=lambda c: c.stream)
    for call in (whole, stream_call):
        stored = rig.store.get_call(call.id)
        assert stored is not None and stored.finish_reason == "tool_use" and stored.content is not None
        assert stored.content.tools == WEATHER
        tool_calls = stored.content.tool_calls
        assert [(c["type"], c["name"], c["input"]) for c in tool_calls] == [("tool_use", "get_weather",
                                                                            {"city": "Paris"})]  # fmt: skip
    stored_stream = rig.store.get_call(stream_call.id)
    assert stored_stream is not None and stored_stream.content is not None
    assert stored_stream.content.messages[2]["content"][0]["type"] == "tool_result"  # the result went back
    assert streamed.content[0].input == {"city": "Paris"}  # type: ignore[union-attr]


def test_images_are_stored_as_markers_and_sent_unchanged(anthropic_rig: AnthropicRig) -> None:
    data = "iVBORw0KGgo" + "A" * 4000
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    asked = [{"role": "user", "content": [image, url_image, {"type": "text", "text": "What is this?"}]}]
    with obs.trace("image") as t:
        anthropic_rig.client.messages.create(model=MODEL, max_tokens=50, messages=asked)
    assert anthropic_rig.fake.requests[-1]["messages"] == asked  # the provider got the image
    call = anthropic_rig.only_call(t.trace_id)
    assert call.content is not None
    stored = call.content.messages[0]["content"]
    assert data not in json.dumps(call.content.messages)
    assert stored[0]["source"]["data"] == {"__obs__": "image", "media_type": "image/png", "base64_chars": len(data)}
    assert stored[1] == url_image and stored[2] == {"type": "text", "text": "What is this?"}


def test_thinking_tokens_are_the_calls_reasoning_tokens(anthropic_rig: AnthropicRig) -> None:
    thinking: Any = {"type": "enabled", "budget_tokens": 200}
    with obs.trace("think") as t:
        anthropic_rig.client.messages.create(model=MODEL, max_tokens=500, messages=ASK, thinking=thinking)
        with anthropic_rig.client.messages.stream(model=MODEL, max_tokens=500, messages=ASK, thinking=thinking) as s:
            s.until_done()
    for call in anthropic_rig.trace(t.trace_id).calls:
        assert call.reasoning_tokens == 40 and call.completion_tokens == 25
        stored = anthropic_rig.store.get_call(call.id)
        assert stored is not None and stored.content is not None
        assert stored.content.response["content"][0]["thinking"] == THINKING
        assert stored.content.output_text == "Echo: Plan my trip to Paris"  # the thinking is not the answer
        assert stored.params is not None and stored.params["thinking"] == {"type": "enabled", "budget_tokens": 200}


def test_a_refusal_stop_is_a_refusal(anthropic_rig: AnthropicRig) -> None:
    with obs.trace("refuse") as t:
        anthropic_rig.client.messages.create(model="refuse", max_tokens=50, messages=ASK)
    call = anthropic_rig.only_call(t.trace_id)
    assert call.is_refusal and call.finish_reason == "refusal" and call.status == "ok"


@pytest.mark.parametrize(
    ("status", "exception"),
    [(429, anthropic.RateLimitError), (529, anthropic.OverloadedError), (500, anthropic.InternalServerError)],
)
def test_errors_are_recorded_and_reraised_unchanged(
    anthropic_rig: AnthropicRig, status: int, exception: type[Exception]
) -> None:
    with obs.trace("fail") as t, pytest.raises(exception) as raised:
        anthropic_rig.client.messages.create(model=f"fail-{status}", max_tokens=50, messages=ASK)
    assert type(raised.value) is exception and raised.value.status_code == status  # type: ignore[attr-defined]
    call = anthropic_rig.only_call(t.trace_id)
    assert call.status == "error" and call.error_type == exception.__name__
    assert call.error is not None and f"({status})" in call.error and call.cost_usd is None


def test_a_stream_cut_mid_way_is_recorded_as_an_error_with_what_had_arrived(anthropic_rig: AnthropicRig) -> None:
    with obs.trace("cut") as t, pytest.raises(httpx2.ReadError):
        for _ in anthropic_rig.client.messages.create(model="break-stream", max_tokens=50, messages=ASK, stream=True):
            pass
    call = anthropic_rig.only_call(t.trace_id)
    assert call.status == "error" and call.stream and call.content is not None
    assert call.content.output_text == "Echo: Plan"  # the two deltas before the cut


def test_obs_attributes_ride_along_and_are_not_sent(anthropic_rig: AnthropicRig) -> None:
    with obs.trace("attrs") as t:
        anthropic_rig.client.messages.create(model=MODEL, max_tokens=50, messages=ASK, metadata={"user_id": "u9"},
                                             obs={"feature": "planner", "ticket": "T-1"})  # type: ignore[call-overload]  # fmt: skip
    assert "obs" not in anthropic_rig.fake.requests[-1]
    call = anthropic_rig.only_call(t.trace_id)
    assert (call.feature, call.user_id, call.metadata) == ("planner", "u9", {"ticket": "T-1"})


def test_raw_and_streaming_responses_are_recorded(anthropic_rig: AnthropicRig) -> None:
    rig = anthropic_rig
    with obs.trace("raw") as t:
        raw = rig.client.messages.with_raw_response.create(model=MODEL, max_tokens=50, messages=ASK)
        assert raw.parse().content[0].text == "Echo: Plan my trip to Paris"  # type: ignore[union-attr]
        with rig.client.messages.with_streaming_response.create(model=MODEL, max_tokens=50, messages=ASK,
                                                                stream=True) as response:  # fmt: skip
            events = list(response.parse())
    assert events[-1].type == "message_stop"
    calls = sorted(rig.trace(t.trace_id).calls, key=lambda c: c.stream)
    assert [(c.stream, c.status, c.completion_tokens) for c in calls] == [(False, "ok", 25), (True, "ok", 25)]


def test_copies_of_a_wrapped_client_are_recorded_and_count_tokens_is_not(anthropic_rig: AnthropicRig) -> None:
    copy = anthropic_rig.client.with_options(timeout=30)
    with obs.trace("copy") as t:
        copy.messages.create(model=MODEL, max_tokens=50, messages=ASK)
        with copy.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as stream:
            stream.until_done()
    assert len(anthropic_rig.trace(t.trace_id).calls) == 2
    assert "count_tokens" not in vars(anthropic_rig.client.messages)  # the class's method, not wrapped


def test_wrapping_twice_records_once(anthropic_rig: AnthropicRig) -> None:
    assert obs.wrap(anthropic_rig.client) is anthropic_rig.client
    with obs.trace("twice") as t, anthropic_rig.client.messages.stream(model=MODEL, max_tokens=50, messages=ASK) as s:
        s.until_done()
    assert len(anthropic_rig.trace(t.trace_id).calls) == 1


def test_structured_output_through_parse_is_recorded_once(anthropic_rig: AnthropicRig) -> None:
    from pydantic import BaseModel

    class Plan(BaseModel):
        city: str

    rig = anthropic_rig
    with obs.trace("parse") as t:
        parsed = rig.client.messages.parse(model=MODEL, max_tokens=50, messages=ASK, output_format=Plan)
    call = rig.only_call(t.trace_id)
    assert parsed.parsed_output == Plan(city="Paris")
    assert call.status == "ok" and call.completion_tokens == 25 and call.content is not None
    assert call.content.response == json.loads(rig.fake.responses[-1])
    assert call.params is not None and call.params["output_config"]["format"]["type"] == "json_schema"
