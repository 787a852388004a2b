"""Replaying Messages API calls (recorded through the real anthropic client) against the demo provider, which
speaks Anthropic's API too: exact, with overrides, in a batch; and the errors that stop a replay before it starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
import pytest
import sqlalchemy as sa

from obs.capture.anthropic import instrument
from obs.demo.provider import DemoProvider
from obs.recorder.queue import Recorder
from obs.records import CallContent, LLMCall, new_span_id, new_trace_id
from obs.replay.call import Overrides, ReplayError, build_request, call_kind, default_provider, replay_call
from obs.replay.providers import Provider, ProviderError, get, load_file
from obs.replay.runs import Selection, run_batch
from obs.store.store import Store
from tests.browser import free_port
from tests.replay_support import FRIENDLY, QUESTION, SYSTEM

MODEL = "claude-haiku-4-5"
TOOLS = [{"name": "route_ticket", "description": "Route a ticket",
          "input_schema": {"type": "object", "properties": {"team": {"type": "string"}}}}]  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProvider]:
    with DemoProvider(speed=0) as provider:
        yield provider


@pytest.fixture
def local(demo: DemoProvider) -> Provider:
    return Provider("local-claude", demo.url, None, max_retries=0, api="anthropic")


def make_call(content: CallContent, **fields: Any) -> LLMCall:
    """A stored Messages API call as the adapter records it."""
    return LLMCall(id=new_span_id(), trace_id=new_trace_id(), ts=datetime.now(UTC), model=MODEL,
                   provider="anthropic", content=content, **fields)  # fmt: skip


def count_calls(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM llm_calls")).scalar_one())


def record(store: Store, demo: DemoProvider, requests: list[dict[str, Any]]) -> list[str]:
    """Send each request through a wrapped real anthropic client, as an app would; the obs call ids."""
    recorder = Recorder(store.engine.url.render_as_string(hide_password=False))
    client: Any = instrument.wrap(
        anthropic.Anthropic(base_url=demo.url.removesuffix("/v1"), api_key="app-key", max_retries=0), recorder.enqueue
    )
    ids = []
    for i, request in enumerate(requests):
        call_id = f"claude-call-{i}"
        body = {"model": MODEL, "max_tokens": 512, "system": SYSTEM,
                "messages": [{"role": "user", "content": QUESTION}], **request}  # fmt: skip
        with contextlib.suppress(anthropic.APIError):  # recorded as a failed call
            client.messages.create(**body, obs={"call_id": call_id, "feature": "help_answer"})
        ids.append(call_id)
    assert recorder.flush(30)
    recorder.shutdown(timeout=1)
    return ids


def test_an_exact_replay_goes_through_the_messages_api_and_reproduces_the_answer(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    (original_id,) = record(store, demo, [{"extra_body": {"temperature": 0}}])
    original = store.get_call(original_id)
    assert original is not None and original.provider == "anthropic" and call_kind(original) == "messages"
    result = replay_call(store, original_id, provider=local)
    assert result.error is None and not result.comparison.changed
    replay = result.replay
    assert (replay.provider, replay.source, replay.replay_of) == ("anthropic", "replay", original_id)
    assert replay.content is not None and original.content is not None
    assert replay.content.output_text == original.content.output_text
    assert replay.content.system_prompt == SYSTEM and replay.content.messages == original.content.messages
    assert replay.content.response["type"] == "message"
    assert replay.temperature == 0 and replay.params == original.params  # temperature went in the body again
    assert replay.cost_usd is not None and replay.prompt_tokens == original.prompt_tokens


def test_a_new_system_prompt_and_model_are_what_the_replay_sends(
    store: Store, demo: DemoProvider, local: Provider
) -> None:
    (original_id,) = record(store, demo, [{}])
    result = replay_call(store, original_id, Overrides(system_prompt=FRIENDLY, model="claude-opus-4-1"), provider=local)
    replay = result.replay
    assert result.error is None and replay.model == "claude-opus-4-1"
    assert replay.content is not None and replay.content.system_prompt == FRIENDLY
    assert result.comparison.changed  # another prompt, another answer


def test_build_request_rebuilds_a_messages_request_from_the_record() -> None:
    call = make_call(
        CallContent(system_prompt="Be brief. Context: refunds take 5 days.",
                    messages=[{"role": "user", "content": "Refund?"}], tools=TOOLS,
                    response={"type": "message", "content": []}),
        params={"model": MODEL, "max_tokens": 300, "temperature": 0.2, "timeout": 30},
    )  # fmt: skip
    kind, request = build_request(call, Overrides(replace=(("Be brief.", "Be friendly."),), temperature=0.7))
    assert kind == "messages"
    assert request == {"model": MODEL, "max_tokens": 300, "temperature": 0.7, "tools": TOOLS,
                       "system": "Be friendly. Context: refunds take 5 days.",
                       "messages": [{"role": "user", "content": "Refund?"}]}  # fmt: skip
    with pytest.raises(ReplayError, match="'system' is not a parameter"):
        build_request(call, Overrides(params={"system": "x"}))


def test_a_call_whose_image_was_stored_as_a_marker_cannot_be_replayed() -> None:
    marker = {"__obs__": "image", "media_type": "image/png", "base64_chars": 4000}
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": marker}}
    call = make_call(CallContent(messages=[{"role": "user", "content": [image]}], response={"type": "message"}),
                     params={"model": MODEL, "max_tokens": 10})  # fmt: skip
    with pytest.raises(ReplayError, match="sent an image, which obs stores as a marker"):
        build_request(call, Overrides())


def test_a_messages_call_is_refused_by_an_openai_provider_before_anything_is_sent(
    store: Store, demo: DemoProvider
) -> None:
    (original_id,) = record(store, demo, [{}])
    before = count_calls(store)
    openai_only = Provider("local-openai", demo.url, None, max_retries=0)
    with pytest.raises(ReplayError, match=r"speaks the openai API.*--provider anthropic"):
        replay_call(store, original_id, provider=openai_only)
    assert count_calls(store) == before


def test_an_anthropic_call_replays_on_anthropic_by_default_and_needs_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OBS_REPLAY_PROVIDER", raising=False)
    asked = [{"role": "user", "content": "hi"}]
    call = make_call(CallContent(messages=asked, response={"type": "message", "id": "msg_01"}))
    assert default_provider(call) == "anthropic"
    demo_call = make_call(CallContent(messages=asked, response={"type": "message", "id": "msg_demo0001"}))
    assert default_provider(demo_call) == "demo"
    provider = get("anthropic")
    assert (provider.base_url, provider.api) == ("https://api.anthropic.com", "anthropic")
    with pytest.raises(ProviderError, match=r"needs an API key: set \$ANTHROPIC_API_KEY"):
        provider.anthropic_client()


def test_a_providers_file_names_the_api_an_endpoint_speaks(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    path.write_text('[providers.bedrock-proxy]\nbase_url = "http://127.0.0.1:4000"\napi = "anthropic"\n'
                    'api_key_env = "PROXY_KEY"\n\n'
                    '[providers.vllm]\nbase_url = "http://127.0.0.1:8000/v1"\n')  # fmt: skip
    found = load_file(path)
    assert (found["bedrock-proxy"].api, found["vllm"].api) == ("anthropic", "openai")
    path.write_text('[providers.x]\nbase_url = "http://127.0.0.1:1"\napi = "gemini"\n')
    with pytest.raises(ProviderError, match='api must be "openai" or "anthropic", not \'gemini\''):
        load_file(path)


def test_a_batch_of_messages_calls_runs_and_summarises(store: Store, demo: DemoProvider, local: Provider) -> None:
    record(store, demo, [{"messages": [{"role": "user", "content": f"{QUESTION} ({i})"}]} for i in range(6)])
    run = run_batch(store, Selection(feature="help_answer", limit=10), Overrides(model="claude-opus-4-1"),
                    name="claude batch", concurrency=2, provider=local)  # fmt: skip
    assert len(run.items) == 6
    replays = [item.replay for item in run.items if item.replay is not None]
    assert len(replays) >= 4, run.items  # the demo provider fails a few on purpose
    assert {(r.model, r.provider, r.source) for r in replays} == {("claude-opus-4-1", "anthropic", "replay")}
    assert run.summary.calls == 6


def test_an_anthropic_provider_out_of_reach_is_a_clear_error_and_the_demo_passes_the_check(local: Provider) -> None:
    unreachable = Provider("gone", f"http://127.0.0.1:{free_port()}", None, max_retries=0, api="anthropic")
    with pytest.raises(ProviderError, match=r"cannot reach provider 'gone' at http://127\.0\.0\.1"):
        unreachable.check()
    local.check()  # the demo provider answers GET /v1/models
