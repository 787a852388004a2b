"""Wrapped OpenAI clients: the real openai client, a fake at the HTTP layer, a real store of each dialect."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

import obs
from obs.capture.events import CallEvent
from obs.capture.openai import instrument
from tests.capture_rig import USER, WEATHER_TOOL, Rig
from tests.fake_openai import FakeServer


def test_chat_completion_is_recorded_with_full_input_output_usage_and_cost(rig: Rig) -> None:
    with obs.trace("triage", user_id="u42", tenant_id="acme", feature="ticket_triage", prompt_version="v3") as t:
        response = rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, temperature=0.2, seed=7)
    call = rig.only_call(t.trace_id)
    assert response.choices[0].message.content == "Echo: My printer is on fire "
    assert (call.user_id, call.tenant_id, call.feature, call.prompt_version) == (
        "u42",
        "acme",
        "ticket_triage",
        "v3",
    )
    assert call.model == "gpt-5-mini" and call.response_model == "gpt-5-mini-2025-08-07"
    assert call.provider == "openai" and call.temperature == 0.2 and call.params == {
        "model": "gpt-5-mini", "temperature": 0.2, "seed": 7}  # fmt: skip
    assert call.finish_reason == "stop" and call.status == "ok" and not call.stream
    usage = response.usage
    assert usage is not None and usage.prompt_tokens_details and usage.completion_tokens_details
    assert call.prompt_tokens == usage.prompt_tokens and call.completion_tokens == usage.completion_tokens
    assert call.cached_tokens == usage.prompt_tokens_details.cached_tokens
    assert call.reasoning_tokens == usage.completion_tokens_details.reasoning_tokens == 8
    fresh, cached = usage.prompt_tokens - call.cached_tokens, call.cached_tokens  # type: ignore[operator]
    expected = (fresh * Decimal("0.25") + cached * Decimal("0.025") + usage.completion_tokens * 2) / 10**6
    assert call.cost_usd == expected
    assert call.content is not None
    assert call.content.system_prompt == "You triage tickets." and call.content.messages == USER
    assert call.content.output_text == "Echo: My printer is on fire "
    assert call.content.response["id"] == response.id
    assert call.latency_ms is not None and call.latency_ms >= 0
    assert obs.get_call_id(response) == call.id


def test_the_record_is_a_snapshot_of_the_request(rig: Rig) -> None:
    messages = [dict(m) for m in USER]
    with obs.trace("snap") as t:
        rig.client.chat.completions.create(model="gpt-5-mini", messages=messages)
        messages[1]["content"] = "changed after the call"
        messages.append({"role": "user", "content": "appended after the call"})
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.messages == USER


def test_the_record_holds_the_request_and_response_exactly_as_they_went_over_the_wire(rig: Rig) -> None:
    first = rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
    # The agent pattern: the previous answer goes back in as a pydantic message object.
    messages = [*USER, first.choices[0].message, {"role": "user", "content": "And now?"}]
    with obs.trace("wire") as t:
        rig.client.chat.completions.create(model="gpt-5-mini", messages=messages, max_completion_tokens=50,
                                           extra_headers={"Authorization": "Bearer sk-secret"})  # fmt: skip
    call = rig.only_call(t.trace_id)
    sent = rig.fake.requests[-1]
    assert call.content is not None and call.content.messages == sent["messages"]
    assert call.content.messages[2]["role"] == "assistant"  # the object, as the JSON the client made of it
    assert call.content.response == json.loads(rig.fake.responses[-1])  # the provider's body, byte for byte JSON
    assert call.params == {"model": "gpt-5-mini", "max_completion_tokens": 50,
                           "extra_headers": {"Authorization": "<redacted>"}}  # fmt: skip


def test_the_queue_holds_the_response_body_not_the_sdk_objects_parsed_from_it(rig: Rig) -> None:
    """Objects the app has dropped are not kept alive (nor walked by the garbage collector) while they wait."""
    captured: list[CallEvent] = []
    client = instrument.wrap(rig.plain, captured.append)
    chat = client.chat.completions.create(model="gpt-5-mini", messages=USER)
    answer = client.responses.create(model="gpt-5-mini", input="hi")
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a"])
    assert [(e.response, e.response_body is not None) for e in captured[:2]] == [(None, True), (None, True)]
    assert captured[2].response is vectors  # embeddings: the vectors are not stored, the body is not parsed again
    assert obs.get_call_id(chat) == captured[0].call_id and obs.get_call_id(answer) == captured[1].call_id


def test_stream_chunks_are_identical_with_and_without_obs_and_usage_is_priced(rig: Rig) -> None:
    plain = [c.model_dump(exclude={"id"}) for c in rig.plain.chat.completions.create(
        model="gpt-5-mini", messages=USER, stream=True)]  # fmt: skip
    with obs.trace("stream") as t:
        stream = rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, stream=True)
        wrapped = [c.model_dump(exclude={"id"}) for c in stream]
    assert wrapped == plain
    assert all(c["choices"] for c in wrapped)  # the usage chunk obs asked for is not shown
    assert rig.fake.requests[-1]["stream_options"] == {"include_usage": True}
    call = rig.only_call(t.trace_id)
    assert call.stream and call.status == "ok" and call.finish_reason == "stop"
    assert call.content is not None and call.content.output_text == "Echo: My printer is on fire "
    assert call.prompt_tokens and call.completion_tokens and call.cost_usd is not None and call.cost_usd > 0
    assert call.latency_ms_first_token is not None and call.latency_ms_first_token <= call.latency_ms  # type: ignore[operator]
    assert call.content.messages == USER and "stream_options" not in (call.params or {})


def test_stream_where_the_caller_asked_for_usage_shows_the_usage_chunk(rig: Rig) -> None:
    options = {"include_usage": True}
    with obs.trace("stream") as t:
        chunks = list(rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, stream=True,
                                                         stream_options=options))  # fmt: skip
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert rig.only_call(t.trace_id).prompt_tokens == chunks[-1].usage.prompt_tokens


def test_streamed_tool_calls_are_assembled(rig: Rig) -> None:
    with obs.trace("tools") as t:
        list(rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, tools=WEATHER_TOOL, stream=True))
    call = rig.only_call(t.trace_id)
    assert call.finish_reason == "tool_calls" and call.content is not None
    assert call.content.tool_calls == [
        {
            "id": "call_abc123",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert call.content.tools == WEATHER_TOOL


def test_tool_calls_without_streaming(rig: Rig) -> None:
    with obs.trace("tools") as t:
        rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, tools=WEATHER_TOOL)
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.tool_calls[0]["function"]["name"] == "get_weather"
    assert call.finish_reason == "tool_calls" and call.content.output_text is None


def test_abandoned_stream_is_recorded_with_partial_output(rig: Rig) -> None:
    with obs.trace("abandon") as t:
        stream = rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, stream=True)
        seen = [next(stream), next(stream)]
        stream.close()
    call = rig.only_call(t.trace_id)
    assert call.error_type == "StreamAbandoned" and call.status == "error"
    partial = "".join(c.choices[0].delta.content or "" for c in seen)
    assert partial and call.content is not None and call.content.output_text == partial


def test_stream_that_breaks_midway_is_recorded_and_the_error_reraised(rig: Rig) -> None:
    seen = []
    with obs.trace("broken") as t, pytest.raises(openai.APIConnectionError):
        for chunk in rig.client.chat.completions.create(model="break-stream", messages=USER, stream=True):
            seen.append(chunk)
    call = rig.only_call(t.trace_id)
    assert len(seen) == 3 and call.status == "error" and call.error_type == "APIConnectionError"
    assert call.content is not None and call.content.output_text == "".join(
        c.choices[0].delta.content or "" for c in seen
    )


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("fail-429", openai.RateLimitError),
        ("fail-500", openai.InternalServerError),
        ("fail-400", openai.BadRequestError),
        ("fail-timeout", openai.APITimeoutError),
        ("fail-connect", openai.APIConnectionError),
    ],
)
def test_errors_are_recorded_and_reraised_unchanged(rig: Rig, model: str, error: type[Exception]) -> None:
    with obs.trace("errors") as t, pytest.raises(error) as raised:
        rig.client.chat.completions.create(model=model, messages=USER)
    with pytest.raises(error) as plain:
        rig.plain.chat.completions.create(model=model, messages=USER)
    assert type(raised.value) is type(plain.value) and str(raised.value) == str(plain.value)
    call = rig.only_call(t.trace_id)
    assert call.status == "error" and call.error_type == error.__name__
    assert call.error is not None and error.__name__ in call.error
    status = getattr(raised.value, "status_code", None)
    if status:
        assert f"({status})" in call.error
    assert call.latency_ms is not None and call.cost_usd is None


def test_async_client_calls_and_streams_are_recorded(rig: Rig) -> None:
    async def run() -> tuple[str, list[Any]]:
        with obs.trace("async") as t:
            await rig.aclient.chat.completions.create(model="gpt-5-mini", messages=USER)
            stream = await rig.aclient.chat.completions.create(model="gpt-5-mini", messages=USER, stream=True)
            chunks = [c async for c in stream]
        return t.trace_id, chunks

    trace_id, chunks = asyncio.run(run())
    assert all(c.choices for c in chunks)
    calls = rig.trace(trace_id).calls
    assert [c.stream for c in calls] == [False, True]
    assert all(c.cost_usd is not None and c.prompt_tokens for c in calls)


def test_async_tasks_inherit_the_trace(rig: Rig) -> None:
    async def one(i: int) -> None:
        await rig.aclient.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": str(i)}])

    async def run() -> str:
        with obs.trace("fan-out", feature="batch") as t:
            await asyncio.gather(*(one(i) for i in range(5)))
        return t.trace_id

    trace = rig.trace(asyncio.run(run()))
    assert len(trace.calls) == 5 and {c.feature for c in trace.calls} == {"batch"}


def test_responses_api_and_its_stream_are_recorded(rig: Rig) -> None:
    with obs.trace("responses") as t:
        whole = rig.client.responses.create(model="gpt-5-mini", input="Summarise this", instructions="Be brief")
        events = list(rig.client.responses.create(model="gpt-5-mini", input="Summarise this", stream=True))
    calls = rig.trace(t.trace_id).calls
    assert len(calls) == 2 and len(events) == 7
    for call in calls:
        stored = rig.store.get_call(call.id)
        assert stored is not None and stored.content is not None
        assert stored.content.output_text == whole.output_text
        assert stored.prompt_tokens == whole.usage.input_tokens  # type: ignore[union-attr]
        assert stored.reasoning_tokens == 8 and stored.cost_usd is not None
        assert stored.content.messages == "Summarise this"
    assert rig.store.get_call(calls[0].id).content.system_prompt == "Be brief"  # type: ignore[union-attr]


def test_embeddings_are_recorded_without_their_vectors(rig: Rig) -> None:
    with obs.trace("embed") as t:
        rig.client.embeddings.create(model="text-embedding-3-small", input=["a", "b", "c"])
    call = rig.only_call(t.trace_id)
    assert call.prompt_tokens == 15 and call.completion_tokens == 0 and call.cost_usd is not None
    assert call.content is not None and call.content.messages == ["a", "b", "c"]
    assert call.content.response["count"] == 3 and call.content.response["dimensions"] == 4


def test_refusal_field_sets_the_refusal_flag(rig: Rig) -> None:
    with obs.trace("refuse") as t:
        rig.client.chat.completions.create(model="refuse", messages=USER)
    call = rig.only_call(t.trace_id)
    assert call.is_refusal and call.cost_usd is None  # an unknown model is unpriced, not free


def test_trace_with_a_retrieval_span_and_two_calls_links_parents(rig: Rig) -> None:
    with obs.trace("answer_question", user_id="u42", feature="rag") as t:
        with obs.span("retrieval", kind="retrieval", input={"q": "printer"}) as s:
            s.set_output(["doc-1", "doc-2"])
        rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
        with obs.span("answer", kind="chain") as answer:
            rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
    trace = rig.trace(t.trace_id)
    spans = {s.name: s for s in trace.spans}
    assert spans["answer_question"].kind == "trace" and spans["answer_question"].parent_id is None
    assert spans["retrieval"].parent_id == t.id and spans["retrieval"].output == ["doc-1", "doc-2"]
    assert spans["retrieval"].input == {"q": "printer"} and spans["retrieval"].user_id == "u42"
    assert [c.parent_id for c in trace.calls] == [t.id, answer.id]
    assert {c.user_id for c in trace.calls} == {"u42"}


def test_observe_makes_sync_and_async_functions_spans(rig: Rig) -> None:
    @obs.observe(kind="retrieval")
    def search(query: str, k: int = 2) -> list[str]:
        return [query] * k

    @obs.observe()
    async def answer(question: str) -> str:
        await rig.aclient.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": question}])
        return "done"

    async def run() -> str:
        with obs.trace("observed") as t:
            search("printer", k=3)
            await answer("why?")
        return t.trace_id

    trace = rig.trace(asyncio.run(run()))
    spans = {s.name.rsplit(".", 1)[-1]: s for s in trace.spans}
    assert spans["search"].input == {"query": "printer", "k": 3} and spans["search"].output == ["printer"] * 3
    assert spans["answer"].output == "done" and trace.calls[0].parent_id == spans["answer"].id


def test_span_that_raises_is_recorded_as_an_error_and_the_exception_propagates(rig: Rig) -> None:
    with pytest.raises(KeyError), obs.trace("fails") as t, obs.span("lookup"):
        raise KeyError("missing")
    spans = {s.name: s for s in rig.trace(t.trace_id).spans}
    assert spans["lookup"].status == "error" and "KeyError" in (spans["lookup"].error or "")


def test_per_call_attributes_never_reach_the_provider(rig: Rig) -> None:
    with obs.trace("outer", feature="default", user_id="u1") as t:
        rig.client.chat.completions.create(
            model="gpt-5-mini",
            messages=USER,
            obs={"feature": "special", "prompt_version": "v9", "ticket": 17},
        )
    assert "obs" not in rig.fake.requests[-1]
    call = rig.only_call(t.trace_id)
    assert (call.feature, call.prompt_version, call.user_id) == ("special", "v9", "u1")
    assert call.metadata == {"ticket": 17}


def test_explicit_ids_override_the_context(rig: Rig) -> None:
    with obs.trace("outer"):
        rig.client.chat.completions.create(model="gpt-5-mini", messages=USER, obs={"trace_id": "t-explicit"})
    call = rig.only_call("t-explicit")
    assert call.parent_id is None


def test_seed_logged_completion_and_trace_id_example_work_with_only_the_import_changed(rig: Rig) -> None:
    logged_completion = obs.logged_completion
    rewritten = logged_completion(
        messages=[{"role": "user", "content": "Rewrite for retrieval: printer fire"}],
        model="gpt-5-mini", user_id="user_42", feature="query_rewrite", trace_id="trace_seed1",
        client=rig.client,
    )  # fmt: skip
    answer = logged_completion(
        messages=[{"role": "user", "content": "Answer: printer fire\nContext: manual"}],
        model="gpt-5-mini", user_id="user_42", feature="answer_generation", trace_id="trace_seed1",
        parent_id=rewritten.id, client=rig.client,
    )  # fmt: skip
    calls = rig.trace("trace_seed1").calls
    assert [c.feature for c in calls] == ["query_rewrite", "answer_generation"]
    assert calls[1].parent_id == calls[0].id == obs.get_call_id(rewritten)
    assert obs.get_call_id(answer) == calls[1].id and calls[0].user_id == "user_42"


def test_standalone_logged_completion_is_its_own_trace(rig: Rig) -> None:
    response = obs.logged_completion(messages=USER, model="gpt-5-mini", user_id="u", feature="f", client=rig.client)
    assert obs.flush(10)
    call = rig.store.get_call(obs.get_call_id(response) or "")
    assert call is not None and call.trace_id and call.parent_id is None


def test_feedback_by_response_id_lands_on_the_call(rig: Rig) -> None:
    response = rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
    obs.feedback("thumbs_down", call_id=response.id, comment="wrong printer")
    assert obs.flush(10)
    call = rig.store.get_call(obs.get_call_id(response) or "")
    assert call is not None and call.user_feedback == "thumbs_down"


def test_parse_with_a_pydantic_response_format_is_recorded(rig: Rig) -> None:
    from pydantic import BaseModel

    class Echo(BaseModel):
        text: str

    with obs.trace("parse") as t:
        parsed = rig.client.chat.completions.parse(model="gpt-5-mini", messages=USER, response_format=Echo)
    assert parsed.choices[0].message.parsed == Echo(text="Echo: My printer is on fire ")
    call = rig.only_call(t.trace_id)
    assert call.content is not None and call.content.output_text == '{"text": "Echo: My printer is on fire "}'
    assert call.cost_usd is not None
    # Recorded as sent: the JSON schema the SDK made of the class (which a replay can send again).
    assert call.params is not None and call.params["response_format"]["json_schema"]["name"] == "Echo"


def test_stats_count_what_was_recorded(rig: Rig) -> None:
    before = obs.stats()
    for _ in range(3):
        rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
    assert obs.flush(10)
    after = obs.stats()
    assert after.enqueued - before.enqueued == 3 and after.written - before.written == 3
    assert after.dropped == 0 and after.queue_depth == 0


def test_seed_guide_code_runs_unchanged_but_for_the_import(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's own calls, word for word, against its module-level client built from the environment."""
    server = FakeServer(rig.fake)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(obs.sdk, "_default_client", None)
    try:
        from obs import logged_completion

        response = logged_completion(
            messages=[{"role": "user", "content": "Hi"}],
            model="gpt-5-mini",
            user_id="user_42",
            feature="ticket_triage",
        )
        import uuid

        def handle_user_query(question: str, user_id: str) -> Any:
            trace_id = f"trace_{uuid.uuid4().hex[:12]}"
            rewritten = logged_completion(
                messages=[{"role": "user", "content": f"Rewrite for retrieval: {question}"}],
                model="gpt-5-mini",
                user_id=user_id,
                feature="query_rewrite",
                trace_id=trace_id,
            )
            ctx = "retrieved chunks"
            answer = logged_completion(
                messages=[{"role": "user", "content": f"Answer: {question}\nContext: {ctx}"}],
                model="gpt-5-mini",
                user_id=user_id,
                feature="answer_generation",
                trace_id=trace_id,
                parent_id=rewritten.id,
            )
            return trace_id, answer

        trace_id, _answer = handle_user_query("printer on fire", "user_42")
    finally:
        server.close()
    assert response.choices[0].message.content == "Echo: Hi "
    calls = rig.trace(trace_id).calls
    assert [c.feature for c in calls] == ["query_rewrite", "answer_generation"]
    assert calls[1].parent_id == calls[0].id
    standalone = rig.store.get_call(obs.get_call_id(response) or "")
    assert standalone is not None and standalone.feature == "ticket_triage" and standalone.user_id == "user_42"


def test_azure_clients_are_recorded_as_azure(rig: Rig) -> None:
    transport = httpx2.MockTransport(rig.fake)
    azure = obs.wrap(
        openai.AzureOpenAI(
            api_key="k", api_version="2024-10-21", azure_endpoint="http://fake.openai.azure.com",
            max_retries=0, http_client=httpx2.Client(transport=transport),
        )
    )  # fmt: skip
    with obs.trace("azure") as t:
        azure.chat.completions.create(model="gpt-5-mini", messages=USER)
    call = rig.only_call(t.trace_id)
    assert call.provider == "azure" and call.cost_usd is not None


def test_with_options_copies_stay_recorded(rig: Rig) -> None:
    with obs.trace("copy") as t:
        rig.client.with_options(timeout=30).chat.completions.create(model="gpt-5-mini", messages=USER)
    assert rig.only_call(t.trace_id).status == "ok"


def test_refusal_phrases_can_be_configured(rig: Rig, db_url: str, tmp_path: Path) -> None:
    obs.configure(db_url, spool_dir=tmp_path / "spool2", refusal_patterns=["my printer is on fire"])
    with obs.trace("custom") as t:
        rig.client.chat.completions.create(model="gpt-5-mini", messages=USER)
    assert rig.only_call(t.trace_id).is_refusal


def test_with_raw_response_calls_are_recorded_with_usage_and_content(rig: Rig) -> None:
    with obs.trace("raw") as t:
        raw = rig.client.chat.completions.with_raw_response.create(model="gpt-5-mini", messages=USER)
        parsed = raw.parse()
    call = rig.only_call(t.trace_id)
    assert parsed.usage is not None and call.prompt_tokens == parsed.usage.prompt_tokens
    assert call.cost_usd is not None and call.content is not None
    assert call.content.output_text == parsed.choices[0].message.content


def test_wrapping_something_obs_cannot_record_is_a_clear_error_not_a_silent_nothing() -> None:
    class NotAClient:
        chat = None

    with pytest.raises(TypeError, match=r"obs.wrap: a .*NotAClient has none of the methods obs records; pass an"):
        obs.wrap(NotAClient())
