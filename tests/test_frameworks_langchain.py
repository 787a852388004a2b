"""LangChain (langchain-openai): ``obs.wrap(ChatOpenAI(...))`` records every call the model makes. The real
langchain-openai and openai SDK, the fake at the HTTP layer, a real SQLite store; each answer is compared with
the same model without obs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pydantic
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.tools import tool
from langchain_openai import AzureChatOpenAI, ChatOpenAI, OpenAIEmbeddings
from openai import OpenAI

import obs
from tests.capture_rig import Rig, gpt5_mini_cost
from tests.fake_openai import FakeOpenAI, FakeServer


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url  # what a framework sends is the subject here, not the store's dialect


class Weather(pydantic.BaseModel):
    text: str


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def http_clients(fake: FakeOpenAI) -> dict[str, Any]:
    transport = httpx2.MockTransport(fake)
    return {"http_client": httpx2.Client(transport=transport),
            "http_async_client": httpx2.AsyncClient(transport=transport)}  # fmt: skip


def chat_model(fake: FakeOpenAI, *, wrapped: bool = True, **kwargs: Any) -> ChatOpenAI:
    model = ChatOpenAI(model="gpt-5-mini", api_key="sk-test", base_url="http://fake/v1", max_retries=0,
                       **http_clients(fake), **kwargs)  # fmt: skip
    return obs.wrap(model) if wrapped else model


def same(message: BaseMessage) -> dict[str, Any]:
    """A message without what differs from one run to the next (LangChain's run id, the provider's response id)."""
    metadata = {k: v for k, v in message.response_metadata.items() if k != "id"}
    tool_calls = getattr(message, "tool_calls", None)
    return {"content": message.content, "metadata": metadata, "tool_calls": tool_calls,
            "usage": getattr(message, "usage_metadata", None)}  # fmt: skip


def joined(chunks: list[Any]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total, AIMessageChunk)
    return total


def test_invoke_and_ainvoke_are_recorded_with_usage_cost_and_the_same_answer(rig: Rig) -> None:
    plain = chat_model(rig.fake, wrapped=False).invoke("My printer is on fire")
    llm = chat_model(rig.fake)
    with obs.trace("langchain invoke") as t:
        answer = llm.invoke("My printer is on fire")
        async_answer = asyncio.run(llm.ainvoke("My printer is on fire"))
    assert same(answer) == same(async_answer) == same(plain)
    first, second = rig.calls(t.trace_id)
    for call, message in ((first, answer), (second, async_answer)):
        assert isinstance(message, AIMessage) and message.usage_metadata is not None
        assert call.model == "gpt-5-mini" and call.response_model == message.response_metadata["model_name"]
        assert call.prompt_tokens == message.usage_metadata["input_tokens"]
        assert call.completion_tokens == message.usage_metadata["output_tokens"]
        assert call.cached_tokens == message.usage_metadata.get("input_token_details", {}).get("cache_read")
        assert call.reasoning_tokens == message.usage_metadata.get("output_token_details", {}).get("reasoning") == 8
        assert call.cost_usd == gpt5_mini_cost(call) and call.cost_usd > 0
        assert call.content is not None and call.content.output_text == message.content
        assert message.content == "Echo: My printer is on fire "
        assert call.content.messages == [{"role": "user", "content": "My printer is on fire"}]
        assert (call.finish_reason, call.status, call.stream) == ("stop", "ok", False)
        assert call.latency_ms_first_token is None
        assert call.content.response["id"] == message.response_metadata["id"]


def test_stream_and_astream_are_recorded_with_first_token_time_and_the_same_chunks(rig: Rig) -> None:
    async def astream(llm: ChatOpenAI) -> list[Any]:
        return [chunk async for chunk in llm.astream("Hello there")]

    plain = list(chat_model(rig.fake, wrapped=False).stream("Hello there"))
    llm = chat_model(rig.fake)
    with obs.trace("langchain stream") as t:
        chunks = list(llm.stream("Hello there"))
        async_chunks = asyncio.run(astream(llm))
    # obs asks for the usage chunk LangChain did not ask for (a custom base URL) and hides it: LangChain sees
    # what it sees without obs, and the call is still priced.
    assert [c.content for c in chunks] == [c.content for c in async_chunks] == [c.content for c in plain]
    assert joined(chunks).usage_metadata is None and joined(plain).usage_metadata is None
    for call, streamed in zip(rig.calls(t.trace_id), (chunks, async_chunks), strict=True):
        assert call.stream and call.status == "ok" and call.finish_reason == "stop"
        assert call.content is not None and call.content.output_text == joined(streamed).content == "Echo: Hello there "
        assert call.latency_ms_first_token is not None and call.latency_ms is not None
        assert call.latency_ms_first_token <= call.latency_ms
        assert call.prompt_tokens and call.completion_tokens and call.cost_usd == gpt5_mini_cost(call)


def test_a_stream_with_stream_usage_hands_langchain_the_usage_obs_records(rig: Rig) -> None:
    with obs.trace("langchain stream usage") as t:
        message = joined(list(chat_model(rig.fake, stream_usage=True).stream("Hello there")))
    (call,) = rig.calls(t.trace_id)
    assert message.usage_metadata is not None
    assert call.prompt_tokens == message.usage_metadata["input_tokens"]
    assert call.completion_tokens == message.usage_metadata["output_tokens"]
    assert call.cost_usd == gpt5_mini_cost(call)


def test_structured_output_invoke_and_stream_are_recorded(rig: Rig) -> None:
    plain = chat_model(rig.fake, wrapped=False).with_structured_output(Weather)
    structured = chat_model(rig.fake).with_structured_output(Weather)

    async def astream() -> list[Any]:
        return [chunk async for chunk in structured.astream("Weather in Paris?")]

    with obs.trace("langchain structured") as t:
        parsed = structured.invoke("Weather in Paris?")
        streamed = list(structured.stream("Weather in Paris?"))
        async_streamed = asyncio.run(astream())
    assert parsed == plain.invoke("Weather in Paris?") == Weather(text="Echo: Weather in Paris? ")
    assert streamed == async_streamed == list(plain.stream("Weather in Paris?")) and streamed[-1] == parsed
    whole, stream, async_stream = rig.calls(t.trace_id)
    assert async_stream.stream and async_stream.latency_ms_first_token is not None
    for call in (whole, stream, async_stream):
        assert call.content is not None and json.loads(call.content.output_text or "") == parsed.model_dump()
        assert call.params is not None and call.params["response_format"]["json_schema"]["name"] == "Weather"
        assert call.cost_usd == gpt5_mini_cost(call) and call.status == "ok"
    assert not whole.stream and stream.stream and stream.latency_ms_first_token is not None


def test_bound_tools_calls_are_stored_whole_and_streamed(rig: Rig) -> None:
    plain = chat_model(rig.fake, wrapped=False).bind_tools([get_weather]).invoke("Weather in Paris?")
    llm = chat_model(rig.fake).bind_tools([get_weather])
    with obs.trace("langchain tools") as t:
        answer = llm.invoke("Weather in Paris?")
        streamed = joined(list(llm.stream("Weather in Paris?")))
    expected = [{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_abc123", "type": "tool_call"}]
    assert isinstance(answer, AIMessage) and answer.tool_calls == plain.tool_calls == streamed.tool_calls == expected  # type: ignore[attr-defined]
    sent = {"id": "call_abc123", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}  # fmt: skip
    for call in rig.calls(t.trace_id):
        assert call.finish_reason == "tool_calls" and call.status == "ok"
        assert call.content is not None and call.content.tool_calls == [sent] and call.content.output_text is None
        assert call.content.tools is not None and call.content.tools[0]["function"]["name"] == "get_weather"
        assert call.cost_usd == gpt5_mini_cost(call)
    assert [c.stream for c in rig.calls(t.trace_id)] == [False, True]


def test_a_tool_round_trip_is_two_calls_in_one_trace(rig: Rig) -> None:
    llm = chat_model(rig.fake).bind_tools([get_weather])
    with obs.trace("langchain round trip") as t:
        asked = llm.invoke("Weather in Paris?")
        assert isinstance(asked, AIMessage)
        result = get_weather.invoke(asked.tool_calls[0])
        final = llm.invoke(["Weather in Paris?", asked, result])
    first, second = rig.calls(t.trace_id)
    assert first.finish_reason == "tool_calls" and second.finish_reason == "stop"
    assert second.content is not None and second.content.output_text == final.content == "Echo: Sunny in Paris "
    assert second.content.messages is not None and second.content.messages[-1] == {
        "role": "tool", "content": "Sunny in Paris", "tool_call_id": "call_abc123"}  # fmt: skip
    assert first.trace_id == second.trace_id == t.trace_id


def test_the_responses_api_is_recorded_whole_streamed_and_with_tools(rig: Rig) -> None:
    plain = chat_model(rig.fake, wrapped=False, use_responses_api=True)
    llm = chat_model(rig.fake, use_responses_api=True)
    with obs.trace("langchain responses") as t:
        answer = llm.invoke("Hello there")
        streamed = joined(list(llm.stream("Hello there")))
        tool_answer = llm.bind_tools([get_weather]).invoke("Weather in Paris?")
        parsed = llm.with_structured_output(Weather).invoke("Weather in Paris?")
    assert answer.text == plain.invoke("Hello there").text == streamed.text
    assert isinstance(tool_answer, AIMessage) and tool_answer.tool_calls[0]["args"] == {"city": "Paris"}
    assert isinstance(parsed, Weather) and parsed == plain.with_structured_output(Weather).invoke("Weather in Paris?")
    whole, stream, tools, structured = rig.calls(t.trace_id)
    assert whole.content is not None and whole.content.output_text == answer.text
    assert stream.content is not None and stream.content.output_text == streamed.text
    assert (whole.stream, stream.stream) == (False, True) and stream.latency_ms_first_token is not None
    assert tools.content is not None and tools.content.tool_calls is not None
    assert [(c["name"], c["arguments"]) for c in tools.content.tool_calls] == [("get_weather", '{"city": "Paris"}')]
    assert structured.content is not None and json.loads(structured.content.output_text or "") == parsed.model_dump()
    for call in (whole, stream, tools, structured):
        assert call.model == "gpt-5-mini" and call.finish_reason == "completed" and call.status == "ok"
        assert call.reasoning_tokens == 8 and call.cost_usd == gpt5_mini_cost(call)
        assert call.content is not None and call.content.messages is not None


def test_embeddings_are_recorded_without_their_vectors(rig: Rig) -> None:
    options: dict[str, Any] = {"model": "text-embedding-3-small", "api_key": "sk-test", "base_url": "http://fake/v1",
                               "max_retries": 0, "check_embedding_ctx_length": False}  # fmt: skip
    plain = OpenAIEmbeddings(**options, **http_clients(rig.fake))
    embedder = obs.wrap(OpenAIEmbeddings(**options, **http_clients(rig.fake)))
    with obs.trace("langchain embeddings") as t:
        vectors = embedder.embed_documents(["printer", "fire"])
        query = asyncio.run(embedder.aembed_query("printer"))
    assert vectors == plain.embed_documents(["printer", "fire"]) and query == vectors[0]
    documents, one = rig.calls(t.trace_id)
    assert (documents.model, documents.prompt_tokens, one.prompt_tokens) == ("text-embedding-3-small", 10, 5)
    assert documents.cost_usd == Decimal("0.02") * 10 / 10**6 and documents.status == "ok"
    assert documents.content is not None and "0.1" not in json.dumps(documents.content.response)


def test_azure_chat_openai_is_recorded_as_azure(rig: Rig) -> None:
    llm = obs.wrap(AzureChatOpenAI(azure_deployment="gpt-5-mini", api_version="2025-04-01-preview", api_key="sk-test",
                                   azure_endpoint="http://fake", max_retries=0, **http_clients(rig.fake)))  # fmt: skip
    with obs.trace("langchain azure") as t:
        answer = llm.invoke("Hello there")
    (call,) = rig.calls(t.trace_id)
    assert call.provider == "azure" and call.content is not None and call.content.output_text == answer.content


def test_a_model_on_langchains_own_http_client_is_recorded(rig: Rig) -> None:
    # No http_client: LangChain builds its own (cached and shared by every model with the same base URL).
    server = FakeServer(rig.fake)
    try:
        llm = obs.wrap(ChatOpenAI(model="gpt-5-mini", api_key="sk-test", base_url=server.url, max_retries=0))
        again = obs.wrap(ChatOpenAI(model="gpt-5-mini", api_key="sk-test", base_url=server.url, max_retries=0))
        with obs.trace("langchain default client") as t:
            answer = llm.invoke("Hello there")
            chunks = list(again.stream("Hello there"))
    finally:
        server.close()
    whole, stream = rig.calls(t.trace_id)
    assert whole.content is not None and whole.content.output_text == answer.content
    assert stream.content is not None and stream.content.output_text == joined(chunks).content
    assert stream.stream and stream.cost_usd == gpt5_mini_cost(stream)


def test_wrapping_a_model_twice_records_each_call_once(rig: Rig) -> None:
    llm = obs.wrap(chat_model(rig.fake))
    with obs.trace("langchain twice") as t:
        llm.invoke("Hello there")
    assert len(rig.calls(t.trace_id)) == 1


def test_a_root_client_passed_alone_is_replaced_by_langchain_so_the_model_is_what_to_wrap(rig: Rig) -> None:
    # Why obs.wrap takes the model: langchain-openai builds new clients unless ``client`` is passed too.
    mine = obs.wrap(OpenAI(api_key="sk-test", base_url="http://fake/v1", max_retries=0))
    llm = ChatOpenAI(model="gpt-5-mini", api_key="sk-test", base_url="http://fake/v1", root_client=mine,
                     **http_clients(rig.fake))  # fmt: skip
    assert llm.root_client is not mine
    with obs.trace("langchain root client") as t:
        obs.wrap(llm).invoke("Hello there")
    assert len(rig.calls(t.trace_id)) == 1


def test_include_response_headers_reads_through_the_raw_response_and_is_recorded(rig: Rig) -> None:
    llm = chat_model(rig.fake, include_response_headers=True)
    with obs.trace("langchain headers") as t:
        answer = llm.invoke("Hello there")
        chunks = list(llm.stream("Hello there"))
    assert "headers" in answer.response_metadata
    whole, stream = rig.calls(t.trace_id)
    assert whole.content is not None and whole.content.output_text == answer.content and not whole.stream
    assert stream.content is not None and stream.content.output_text == joined(chunks).content and stream.stream
    assert whole.cost_usd == gpt5_mini_cost(whole) and stream.cost_usd == gpt5_mini_cost(stream)


class HouseModel(ChatOpenAI):
    """A model of another package built on langchain-openai's (as langchain-deepseek's and langchain-xai's are)."""


def test_a_subclass_from_another_package_is_recognised_and_the_same_model_is_returned(rig: Rig) -> None:
    model = HouseModel(model="gpt-5-mini", api_key="sk-test", base_url="http://fake/v1", **http_clients(rig.fake))
    assert obs.wrap(model) is model
    with obs.trace("langchain subclass") as t:
        model.invoke("Hello there")
    assert len(rig.calls(t.trace_id)) == 1


def test_obs_never_imports_langchain() -> None:
    code = ("import sys, obs, openai; obs.wrap(openai.OpenAI(api_key='sk-test')); "
            "print(obs.__file__, sorted(m for m in sys.modules if m.startswith('langchain')))")  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    where, imported = done.stdout.split(" ", 1)
    assert Path(where).is_relative_to(root) and imported.strip() == "[]", done.stdout
