"""The openai client's other doors: raw and streaming responses, ``beta`` resources, stream helpers, and what a
stored provider object looks like. The real client, a fake at the HTTP layer, a real store of each dialect."""

from __future__ import annotations

import asyncio
import json
import warnings

import pydantic

import obs
from tests.capture_rig import USER, WEATHER_TOOL, Rig

RESPONSES_TOOL = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]


def test_with_streaming_response_streams_are_recorded_whole(rig: Rig) -> None:
    # openai-agents' Runner.run_streamed reads the Responses API this way.
    raw_stream = rig.client.responses.with_streaming_response.create(model="gpt-5-mini", input="Hi", stream=True)
    with obs.trace("raw stream") as t, raw_stream as raw:
        events = list(raw.parse())
    call = rig.only_call(t.trace_id)
    final = events[-1].response
    assert call.stream and call.status == "ok"
    assert call.content is not None and call.content.output_text == final.output_text
    assert call.prompt_tokens == final.usage.input_tokens and call.cost_usd is not None
    assert call.latency_ms_first_token is not None
    assert call.content.response["id"] == final.id


def test_async_with_streaming_response_streams_are_recorded_whole_and_nothing_is_left_unawaited(rig: Rig) -> None:
    async def run() -> list[object]:
        manager = rig.aclient.responses.with_streaming_response.create(model="gpt-5-mini", input="Hi", stream=True)
        async with manager as raw:
            return [event async for event in await raw.parse()]

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine ... was never awaited"
        with obs.trace("async raw stream") as t:
            events = asyncio.run(run())
        call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.output_text == events[-1].response.output_text  # type: ignore[attr-defined]
    assert call.completion_tokens is not None and call.latency_ms_first_token is not None
    assert call.content.response.get("__obs__") is None


def test_with_streaming_response_without_stream_is_recorded_when_parsed(rig: Rig) -> None:
    raw_whole = rig.client.chat.completions.with_streaming_response.create(model="gpt-5-mini", messages=USER)
    with obs.trace("raw whole") as t, raw_whole as raw:
        completion = raw.parse()
        assert raw.parse() is completion
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.output_text == completion.choices[0].message.content
    assert completion.usage is not None and call.prompt_tokens == completion.usage.prompt_tokens


def test_a_streaming_response_closed_unread_is_recorded_once_as_abandoned(rig: Rig) -> None:
    raw_stream = rig.client.chat.completions.with_streaming_response.create(
        model="gpt-5-mini", messages=USER, stream=True
    )
    with obs.trace("raw abandoned") as t, raw_stream as raw:
        next(iter(raw.parse()))
    call = rig.only_call(t.trace_id)
    assert call.error_type == "StreamAbandoned" and call.stream


def test_a_raw_streamed_response_parsed_twice_is_read_once(rig: Rig) -> None:
    with obs.trace("raw twice") as t:
        raw = rig.client.chat.completions.with_raw_response.create(model="gpt-5-mini", messages=USER, stream=True)
        first, second = raw.parse(), raw.parse()
        chunks = list(first)
    assert first is second and chunks
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.output_text == "Echo: My printer is on fire "


def test_a_responses_stream_with_only_a_function_call_has_a_first_token_time(rig: Rig) -> None:
    with obs.trace("tool stream") as t:
        events = list(rig.client.responses.create(model="gpt-5-mini", input="Weather?", tools=RESPONSES_TOOL,
                                                  stream=True))  # fmt: skip
    assert [e.type for e in events].count("response.output_text.delta") == 0
    call = rig.only_call(t.trace_id)
    assert call.latency_ms_first_token is not None
    assert call.content is not None and call.content.output_text is None
    assert call.content.tool_calls[0]["name"] == "get_weather"


def test_streamed_responses_tool_calls_are_stored_as_the_wire_json(rig: Rig) -> None:
    with obs.trace("wire tools") as t:
        for _ in rig.client.responses.create(model="gpt-5-mini", input="Weather?", tools=RESPONSES_TOOL, stream=True):
            pass
    call = rig.only_call(t.trace_id)
    assert call.content is not None
    sent = {"type": "function_call", "id": "fc_1", "call_id": "call_fc1", "name": "get_weather",
            "arguments": '{"city": "Paris"}', "status": "completed"}  # fmt: skip
    assert call.content.tool_calls == [sent]  # no "async_": null, no defaults the provider never sent
    assert call.content.response["output"] == [sent]


class City(pydantic.BaseModel):
    text: str


def test_beta_chat_completions_parse_and_stream_are_recorded(rig: Rig) -> None:
    with obs.trace("beta") as t:
        parsed = rig.client.beta.chat.completions.parse(model="gpt-5-mini", messages=USER, response_format=City)
        with rig.client.beta.chat.completions.stream(model="gpt-5-mini", messages=USER) as stream:
            streamed = [event for event in stream if event.type == "content.delta"]
            final = stream.get_final_completion()
    calls = sorted(rig.trace(t.trace_id).calls, key=lambda c: c.stream)
    assert [c.stream for c in calls] == [False, True]
    first, second = (rig.store.get_call(c.id) for c in calls)
    assert first is not None and first.content is not None and parsed.choices[0].message.parsed is not None
    assert json.loads(first.content.output_text or "") == {"text": parsed.choices[0].message.parsed.text}
    assert second is not None and second.content is not None and streamed
    assert second.content.output_text == final.choices[0].message.content
    assert second.prompt_tokens is not None and second.latency_ms_first_token is not None


def test_chat_completions_stream_helper_is_recorded_with_tools(rig: Rig) -> None:
    helper = rig.client.chat.completions.stream(model="gpt-5-mini", messages=USER, tools=WEATHER_TOOL)
    with obs.trace("helper") as t, helper as stream:
        final = stream.get_final_completion()
    call = rig.only_call(t.trace_id)
    assert final.choices[0].message.tool_calls
    assert call.content is not None and call.content.tool_calls[0]["function"]["name"] == "get_weather"
    assert call.prompt_tokens is not None and call.latency_ms_first_token is not None


def test_async_beta_parse_is_recorded(rig: Rig) -> None:
    async def run() -> object:
        return await rig.aclient.beta.chat.completions.parse(model="gpt-5-mini", messages=USER, response_format=City)

    with obs.trace("async beta") as t:
        parsed = asyncio.run(run())
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.output_text == parsed.choices[0].message.content  # type: ignore[attr-defined]


def test_responses_stream_helper_is_recorded(rig: Rig) -> None:
    helper = rig.client.responses.stream(model="gpt-5-mini", input="Hi", instructions="Be brief")
    with obs.trace("responses helper") as t, helper as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    call = rig.only_call(t.trace_id)
    assert call.stream and call.content is not None and call.content.output_text == text == final.output_text
    assert call.content.system_prompt == "Be brief" and call.latency_ms_first_token is not None
