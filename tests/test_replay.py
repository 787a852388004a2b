"""Replaying one call against the demo provider with the real openai client: exact, with overrides, compared."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import openai
import pytest
import sqlalchemy as sa

from obs.capture import recording
from obs.capture.openai import instrument
from obs.demo.provider import DemoProvider
from obs.recorder.queue import Recorder
from obs.records import CallContent, LLMCall
from obs.replay.call import Overrides, ReplayError, build_request, replay_call
from obs.replay.providers import Provider, ProviderError
from obs.store import queries
from obs.store.store import Store
from tests.browser import free_port
from tests.factories import make_call
from tests.replay_support import FRIENDLY, QUESTION, SYSTEM, failing_question, messages, record_calls

TRIAGE_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "route_ticket",
            "parameters": {"type": "object", "properties": {"team": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProvider]:
    with DemoProvider(speed=0) as provider:
        yield provider


@pytest.fixture
def local(demo: DemoProvider) -> Provider:
    return Provider("local-demo", demo.url, None, max_retries=0)


def _record(store: Store, demo: DemoProvider, **request: object) -> str:
    body = {"model": "gpt-5-mini", "messages": messages(), "temperature": 0, **request}
    return record_calls(store.engine.url.render_as_string(hide_password=False), demo.url, [body])[0]


def test_exact_replay_reproduces_the_answer_and_links_to_the_original(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    original_id = _record(store, demo)
    result = replay_call(store, original_id, provider=local)
    assert result.error is None and not result.comparison.changed
    original, replay = result.original, result.replay
    assert replay.content and original.content and replay.content.output_text == original.content.output_text
    assert "download past invoices" in (replay.content.output_text or "")
    assert (replay.source, replay.replay_of, replay.feature) == ("replay", original_id, "help_answer")
    assert replay.id != original_id and replay.trace_id != original.trace_id
    assert replay.cost_usd is not None and replay.latency_ms is not None  # priced and timed like any call
    assert replay.metadata == {"replay_provider": "local-demo"}
    stored = store.get_call(replay.id)
    assert stored is not None and stored.replay_of == original_id


def test_a_new_system_prompt_gives_a_different_answer_with_a_word_diff(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    original_id = _record(store, demo)
    result = replay_call(store, original_id, Overrides(system_prompt=FRIENDLY), provider=local)
    comparison = result.comparison
    assert comparison.changed and comparison.text_changed
    assert result.replay.content and result.replay.content.messages[0]["content"] == FRIENDLY
    inserted = "".join(p.text for p in comparison.pieces if p.op == "insert")
    assert "Happy to help!" in inserted
    # Both answers can be read back from the diff, word for word.
    assert "".join(p.text for p in comparison.pieces if p.op != "insert") == comparison.text_before
    assert "".join(p.text for p in comparison.pieces if p.op != "delete") == comparison.text_after


def test_model_temperature_and_parameter_overrides_are_sent_and_recorded(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    original_id = _record(store, demo, max_tokens=400)
    overrides = Overrides(model="gpt-4.1", temperature=0.2, params={"max_tokens": None, "top_p": 0.5})
    replay = replay_call(store, original_id, overrides, provider=local).replay
    assert (replay.model, replay.response_model, replay.temperature) == ("gpt-4.1", "gpt-4.1", 0.2)
    assert replay.params and replay.params.get("top_p") == 0.5 and "max_tokens" not in replay.params
    assert replay.content and "In short:" in (replay.content.output_text or "")  # gpt-4.1's habit in the demo


def test_an_edited_message_is_what_the_replay_sends(store: Store, demo: DemoProvider, local: Provider) -> None:
    original_id = _record(store, demo)
    edited = "Which payment methods do you accept on yearly plans?"
    replay = replay_call(store, original_id, Overrides(messages={1: edited}), provider=local).replay
    assert replay.content and replay.content.messages[1]["content"] == edited
    assert "bank transfer" in (replay.content.output_text or "")


def test_tool_calls_compare_by_name_and_arguments_not_by_provider_ids(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    body = messages("Our SSO login is down and no agent can sign in, urgent!", "You triage tickets.")
    original_id = _record(store, demo, messages=body, tools=TRIAGE_TOOLS)
    same = replay_call(store, original_id, provider=local).comparison
    assert same.original.content and same.replay.content
    assert same.original.content.tool_calls[0]["id"] != same.replay.content.tool_calls[0]["id"]
    assert same.tool_changes == () and not same.changed and same.replay.finish_reason == "tool_calls"
    edited = Overrides(messages={1: "I was charged twice, please refund one invoice."})
    other = replay_call(store, original_id, edited, provider=local).comparison
    assert [(c.change, c.name) for c in other.tool_changes] == [("removed", "route_ticket"), ("added", "route_ticket")]
    assert '"billing"' in other.tool_changes[1].arguments


def test_a_streamed_call_is_replayed_as_a_stream(store: Store, demo: DemoProvider, local: Provider) -> None:
    original_id = _record(store, demo, stream=True)
    result = replay_call(store, original_id, provider=local)
    assert result.replay.stream and result.replay.latency_ms_first_token is not None
    assert not result.comparison.changed and result.replay.completion_tokens == result.original.completion_tokens


def test_every_replay_of_a_call_is_listed_newest_first(store: Store, demo: DemoProvider, local: Provider) -> None:
    original_id = _record(store, demo)
    first = replay_call(store, original_id, provider=local).replay
    second = replay_call(store, original_id, Overrides(model="claude-haiku-4-5"), provider=local).replay
    listed = queries.run("replays_of_call", db=store, call_id=original_id)
    assert listed["id"].tolist() == [second.id, first.id]
    assert listed["model"].tolist() == ["claude-haiku-4-5", "gpt-5-mini"]


def _count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT COUNT(*) FROM llm_calls")).scalar_one())


def test_unknown_call_and_call_without_content_are_clear_errors(store: Store, local: Provider) -> None:
    with pytest.raises(ReplayError, match="no call with id 'nope'"):
        replay_call(store, "nope", provider=local)
    ts = datetime(2026, 11, 20, tzinfo=UTC)
    store.write_batch([LLMCall(id="meta", trace_id="t", ts=ts, model="gpt-5-mini", content_state="metadata_only")])
    with pytest.raises(ReplayError, match="content is metadata-only"):
        replay_call(store, "meta", provider=local)
    store.write_batch([LLMCall(id="old", trace_id="t", ts=ts, model="gpt-5-mini", content_state="expired")])
    with pytest.raises(ReplayError, match="content is expired"):
        replay_call(store, "old", provider=local)
    assert _count(store) == 2


def test_a_provider_without_its_key_or_out_of_reach_writes_nothing(
    store: Store, demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_id = _record(store, demo)
    monkeypatch.delenv("OBS_TEST_MISSING_KEY", raising=False)
    keyless = Provider("needs-key", demo.url, "OBS_TEST_MISSING_KEY")
    with pytest.raises(ProviderError, match=r"needs an API key: set \$OBS_TEST_MISSING_KEY"):
        replay_call(store, original_id, provider=keyless)
    gone = Provider("gone", f"http://127.0.0.1:{free_port()}/v1", None, max_retries=0)
    with pytest.raises(ProviderError, match="cannot reach provider 'gone'"):
        replay_call(store, original_id, provider=gone)
    with pytest.raises(ProviderError, match="unknown provider 'nowhere'"):
        replay_call(store, original_id, Overrides(provider="nowhere"))
    assert _count(store) == 1


def test_a_provider_error_is_recorded_as_a_failed_replay(store: Store, demo: DemoProvider, local: Provider) -> None:
    question = failing_question(SYSTEM)
    original_id = _record(store, demo, messages=messages(question))
    result = replay_call(store, original_id, provider=local)
    assert result.error and ("InternalServerError" in result.error or "RateLimitError" in result.error)
    assert result.replay.status == "error" and result.replay.replay_of == original_id
    assert result.original.status == "error"  # the demo provider is deterministic: the original failed too


def test_build_request_keeps_parameters_and_drops_transport_details() -> None:
    ts = datetime(2026, 11, 20, tzinfo=UTC)
    call = make_call(ts, params={"model": "gpt-5-mini", "seed": 7, "extra_headers": {"x": "<redacted>"},
                                 "response_format": "app.models.Answer"})  # fmt: skip
    kind, request = build_request(call, Overrides(system_prompt="New."))
    assert kind == "chat" and request["seed"] == 7 and "extra_headers" not in request
    assert "response_format" not in request  # a Python class: it cannot be sent again
    assert request["messages"][0] == {"role": "system", "content": "New."}
    with pytest.raises(ReplayError, match="no message 5"):
        build_request(call, Overrides(messages={5: "x"}))


def test_system_prompt_override_is_added_when_the_call_had_none() -> None:
    call = make_call(datetime(2026, 11, 20, tzinfo=UTC))
    bare = dataclasses.replace(call, content=CallContent(messages=[{"role": "user", "content": "Hi"}]))
    _, request = build_request(bare, Overrides(system_prompt="Be brief."))
    assert request["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_a_responses_api_call_is_replayed_through_the_responses_api(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    recorder = Recorder(store.engine.url.render_as_string(hide_password=False))
    client = instrument.wrap(openai.OpenAI(base_url=demo.url, api_key="k", max_retries=0), recorder.enqueue)
    response = client.responses.create(model="gpt-5-mini", instructions=SYSTEM, input=QUESTION, temperature=0)
    assert recorder.flush(10)
    recorder.shutdown(timeout=1)
    original_id = recording.response_ids.resolve(response.id)
    assert original_id is not None and original_id != response.id
    same = replay_call(store, original_id, provider=local)
    assert not same.comparison.changed and same.replay.content and same.replay.content.system_prompt == SYSTEM
    friendly = replay_call(store, original_id, Overrides(system_prompt=FRIENDLY), provider=local)
    assert friendly.comparison.changed and friendly.replay.content
    assert friendly.replay.content.system_prompt == FRIENDLY and friendly.replay.params
    assert friendly.replay.content.response["object"] == "response"
