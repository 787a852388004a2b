"""The logging proxy with the real openai and anthropic clients, against a real local upstream (tests/proxy_rig.py):
what the client gets is what the upstream sent, and every call is recorded once, with its content, tokens, cost,
timings, attributes and trace; errors and timeouts come back unchanged; recording never breaks a request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from obs import config
from obs.proxy import calls as proxy_calls
from obs.records import LLMCall
from obs.store.store import Store
from tests import proxy_rig
from tests.capture_rig import USER, WEATHER_TOOL
from tests.proxy_rig import ProxyRig, Upstream, body_json
from tests.tcp_proxy import Proxy as TcpProxy

KEY = "sk-proj-PLANTED-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-PLANTED-fedcba9876543210"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def rig(upstream: Upstream, db_url: str, tmp_path: Path) -> Iterator[ProxyRig]:
    Store(db_url).close()
    running = proxy_rig.start(upstream, db_url, tmp_path / "spool")
    yield running
    proxy_rig.stop(running)


def oai(rig: ProxyRig, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{rig.url}/v1", api_key=KEY, max_retries=0, default_headers=headers)


def claude(rig: ProxyRig) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=rig.url, api_key=ANTHROPIC_KEY, max_retries=0)


def stored(rig: ProxyRig, expect: int | None = None) -> list[LLMCall]:
    """Every recorded call, oldest first, with its content; once there are ``expect`` of them (an SDK stops reading
    a stream at ``[DONE]``, a moment before the proxy hands the call to the recorder)."""
    deadline = time.monotonic() + 10
    while expect is not None and _count(rig.db_url) < expect and time.monotonic() < deadline:
        rig.flush()
        time.sleep(0.05)
    rig.flush()
    store = Store(rig.db_url)
    try:
        with store.engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT id FROM llm_calls ORDER BY ts")).scalars().all()
        found = [store.get_call(i) for i in ids]
    finally:
        store.close()
    return sorted((c for c in found if c is not None), key=lambda c: c.ts)


def only(rig: ProxyRig) -> LLMCall:
    found = stored(rig, 1)
    assert len(found) == 1, found
    return found[0]


def test_a_chat_call_is_relayed_unchanged_and_recorded_whole(rig: ProxyRig, upstream: Upstream) -> None:
    client = oai(rig, **{"obs-user-id": "u-7", "obs-session-id": "s-1", "obs-tenant-id": "acme",
                         "obs-feature": "triage", "obs-prompt-version": "v3", "obs-metadata-region": "eu"})  # fmt: skip
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER, temperature=0.2)
    answer = raw.parse()
    assert raw.http_response.content == upstream.sent[-1]  # the exact bytes the upstream sent
    seen = upstream.last()
    assert seen.path == "/v1/chat/completions" and seen.headers["authorization"] == f"Bearer {KEY}"
    assert not [h for h in seen.headers if h.startswith("obs-")]
    assert body_json(seen) == {"model": "gpt-4o-mini", "messages": USER, "temperature": 0.2}
    call = only(rig)
    assert (call.source, call.provider, call.model, call.status) == ("proxy", "openai", "gpt-4o-mini", "ok")
    assert (call.user_id, call.session_id, call.tenant_id, call.feature, call.prompt_version) == (
        "u-7", "s-1", "acme", "triage", "v3")  # fmt: skip
    assert call.metadata == {"region": "eu"}
    assert call.content is not None and call.content.messages == USER
    assert call.content.system_prompt == USER[0]["content"]
    assert call.content.output_text == answer.choices[0].message.content
    assert answer.usage is not None and call.prompt_tokens == answer.usage.prompt_tokens
    assert call.completion_tokens == answer.usage.completion_tokens and call.cached_tokens > 0
    assert call.cost_usd is not None and call.cost_usd > 0
    assert call.temperature == 0.2 and call.latency_ms is not None and call.stream is False


def test_a_stream_reaches_the_client_as_the_upstream_sent_it(rig: ProxyRig, upstream: Upstream) -> None:
    """A client that asks for usage itself: the proxy changes nothing, byte for byte."""
    body = {"model": "gpt-4o-mini", "messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    with httpx2.stream("POST", f"{rig.url}/v1/chat/completions", json=body, timeout=10,
                       headers={"authorization": f"Bearer {KEY}"}) as response:  # fmt: skip
        got = response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
    assert got == upstream.sent[-1] and got.endswith(b"data: [DONE]\n\n")
    call = only(rig)
    assert call.stream and call.completion_tokens and call.prompt_tokens and call.cost_usd
    assert call.latency_ms_first_token is not None and call.content is not None
    assert call.content.output_text and call.content.output_text.startswith("Echo:")


def test_usage_the_proxy_asked_for_is_recorded_and_hidden_from_the_client(rig: ProxyRig, upstream: Upstream) -> None:
    chunks = list(oai(rig).chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert body_json(upstream.last())["stream_options"] == {"include_usage": True}
    assert chunks and all(c.usage is None and c.choices for c in chunks)  # no usage-only chunk reached the client
    call = only(rig)
    assert call.prompt_tokens and call.completion_tokens and call.cost_usd
    assert call.params is not None and "stream_options" not in call.params  # stored as the client sent it
    assert call.content is not None and call.content.output_text == "".join(
        c.choices[0].delta.content or "" for c in chunks
    )


def test_events_are_passed_on_as_they_arrive(rig: ProxyRig) -> None:
    """The upstream waits 0.3 s before each event: the first one reaches the client long before the last."""
    client = oai(rig, **{"x-fake-drip": "0.3"})
    started = time.monotonic()
    times = [time.monotonic() - started for _ in client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True})]  # fmt: skip
    assert len(times) >= 4
    assert times[0] < times[-1] - 0.6  # not buffered until the end
    call = only(rig)
    assert call.latency_ms_first_token is not None and call.latency_ms is not None
    assert call.latency_ms_first_token < call.latency_ms - 500


def test_async_client_tools_and_a_streamed_tool_call(rig: ProxyRig) -> None:
    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=f"{rig.url}/v1", api_key=KEY, max_retries=0)
        answer = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=WEATHER_TOOL)
        assert answer.choices[0].message.tool_calls
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=WEATHER_TOOL,
                                                      stream=True)  # fmt: skip
        assert [c async for c in stream]

    asyncio.run(main())
    whole, streamed = stored(rig, 2)
    for call in (whole, streamed):
        assert call.content is not None and call.content.tool_calls
        assert call.content.tool_calls[0]["function"]["name"] == "get_weather"
        assert call.content.tools == WEATHER_TOOL and call.finish_reason == "tool_calls"
    assert streamed.stream and streamed.prompt_tokens


def test_responses_and_embeddings(rig: ProxyRig) -> None:
    client = oai(rig)
    answer = client.responses.create(model="gpt-4o-mini", input="What is obs?", instructions="Be brief.")
    events = list(client.responses.create(model="gpt-4o-mini", input="And again?", stream=True))
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert events and len(vectors.data) == 2
    whole, streamed, embedded = stored(rig, 3)
    assert whole.content is not None and whole.content.output_text == answer.output_text
    assert whole.content.system_prompt == "Be brief." and whole.prompt_tokens and whole.cost_usd
    assert streamed.stream and streamed.content is not None and streamed.content.output_text
    assert streamed.prompt_tokens and streamed.latency_ms_first_token is not None
    assert embedded.prompt_tokens and embedded.model == "text-embedding-3-small" and embedded.cost_usd is not None


def test_anthropic_messages_whole_streamed_and_with_tools(rig: ProxyRig, upstream: Upstream) -> None:
    client = claude(rig)
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=200, system="You triage tickets.",
                                     messages=[{"role": "user", "content": "My printer is on fire"}])  # fmt: skip
    assert upstream.last().headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"  # this SDK sends no x-api-key
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=200,
                                messages=[{"role": "user", "content": "Plan it"}]) as stream:  # fmt: skip
        text = stream.get_final_text()
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
    client.messages.create(model="claude-sonnet-4-5", max_tokens=200, tools=tools,  # type: ignore[arg-type]
                           messages=[{"role": "user", "content": "Weather in Paris?"}])  # fmt: skip
    whole, streamed, tooled = stored(rig, 3)
    assert (whole.provider, whole.source) == ("anthropic", "proxy")
    assert whole.content is not None and whole.content.system_prompt == "You triage tickets."
    assert whole.content.output_text == message.content[0].text  # type: ignore[union-attr]
    assert whole.cached_tokens and whole.cache_write_tokens and whole.cost_usd
    assert streamed.stream and streamed.content is not None and streamed.content.output_text == text
    assert streamed.latency_ms_first_token is not None and streamed.completion_tokens
    assert tooled.content is not None and tooled.content.tool_calls


def test_upstream_errors_come_back_unchanged_and_are_recorded(rig: ProxyRig, upstream: Upstream) -> None:
    for status, error_type in ((429, "RateLimitError"), (500, "InternalServerError")):
        response = httpx2.post(f"{rig.url}/v1/chat/completions", timeout=10,
                               json={"model": f"fail-{status}", "messages": USER})  # fmt: skip
        assert response.status_code == status and response.content == upstream.sent[-1]
        call = stored(rig)[-1]
        assert (call.status, call.error_type) == ("error", error_type)
        assert call.error is not None and f"fake {status}" in call.error
    with pytest.raises(openai.RateLimitError):  # and the SDK raises what it would have raised without the proxy
        oai(rig).chat.completions.create(model="fail-429", messages=USER)


def test_an_upstream_timeout_is_a_504_and_recorded(rig: ProxyRig) -> None:
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as raised:
        oai(rig).chat.completions.create(model="fail-timeout", messages=USER)
    assert raised.value.status_code == 504 and "did not answer in time" in str(raised.value)
    assert time.monotonic() - started < proxy_rig.HOLD_S
    call = only(rig)
    assert call.error_type == "APITimeoutError" and call.latency_ms is not None and call.latency_ms >= 900
    response = httpx2.post(f"{rig.url}/v1/chat/completions", json={"model": "fail-connect", "messages": USER},
                           timeout=10)  # fmt: skip
    assert response.status_code == 502 and "cannot reach openai" in response.json()["error"]["message"]
    assert stored(rig)[-1].error_type == "APIConnectionError"


def test_a_stream_the_upstream_breaks_off_is_recorded_with_what_arrived(rig: ProxyRig) -> None:
    with pytest.raises(openai.APIConnectionError):
        list(oai(rig).chat.completions.create(model="break-stream", messages=USER, stream=True))
    call = only(rig)
    assert call.status == "error" and call.error is not None and "broke off" in call.error
    assert call.content is not None and call.content.output_text  # the part that arrived


def test_a_client_that_leaves_mid_stream_is_recorded_with_its_partial_output(rig: ProxyRig) -> None:
    body = json.dumps({"model": "gpt-4o-mini", "messages": USER, "stream": True}).encode()
    host, port = rig.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"x-fake-drip: 0.3\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
        first = conn.recv(65536)
        assert b"200 OK" in first
        deadline = time.monotonic() + 5
        while b"Echo" not in first and time.monotonic() < deadline:
            first += conn.recv(65536)
    deadline = time.monotonic() + 10
    while not stored(rig) and time.monotonic() < deadline:  # the proxy notices at its next write
        time.sleep(0.2)
    call = only(rig)
    assert call.error_type == "StreamAbandoned"
    assert call.content is not None and call.content.output_text and call.content.output_text.startswith("Echo")


def test_other_paths_are_relayed_and_not_recorded(rig: ProxyRig, upstream: Upstream) -> None:
    models = oai(rig).models.list()
    assert [m.id for m in models] == ["gpt-4o-mini"] and upstream.last().path == "/v1/models"
    missing = httpx2.get(f"{rig.url}/nowhere", timeout=5)
    assert missing.status_code == 404 and "/v1/" in missing.json()["error"]["message"]
    unknown = httpx2.post(f"{rig.url}/p/nobody/v1/chat/completions", json={}, timeout=5)
    assert unknown.status_code == 404 and "no provider 'nobody'" in unknown.json()["error"]["message"]
    assert stored(rig) == []


def test_a_named_provider_and_the_trace_headers(rig: ProxyRig, upstream: Upstream) -> None:
    trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client = openai.OpenAI(base_url=f"{rig.url}/p/fake/v1", api_key=KEY, max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                   extra_headers={"traceparent": f"00-{trace}-{parent}-01"})  # fmt: skip
    assert upstream.last().path == "/v1/chat/completions" and "traceparent" not in upstream.last().headers
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={
        "obs-trace-id": trace, "obs-parent-id": "1111111111111111"})  # fmt: skip
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"obs-trace-id": "nonsense"})
    first, second, third = stored(rig, 3)
    assert first.provider == "fake" and (first.trace_id, first.parent_id) == (trace, parent)
    assert (second.trace_id, second.parent_id) == (trace, "1111111111111111")
    assert third.trace_id != trace and len(third.trace_id) == 32 and third.parent_id is None


def test_the_token_is_required_when_set_and_never_forwarded(upstream: Upstream, sqlite_url: str,
                                                            tmp_path: Path) -> None:  # fmt: skip
    Store(sqlite_url).close()
    running = proxy_rig.start(upstream, sqlite_url, tmp_path / "spool", token="s3cret")
    try:
        body = {"model": "gpt-4o-mini", "messages": USER}
        refused = httpx2.post(f"{running.url}/v1/chat/completions", json=body, timeout=5)
        wrong = httpx2.post(f"{running.url}/v1/chat/completions", json=body, timeout=5,
                            headers={"obs-proxy-token": "guess"})  # fmt: skip
        assert refused.status_code == wrong.status_code == 401 and "obs-proxy-token" in refused.text
        good = httpx2.post(f"{running.url}/v1/chat/completions", json=body, timeout=5,
                           headers={"obs-proxy-token": "s3cret"})  # fmt: skip
        assert good.status_code == 200 and "obs-proxy-token" not in upstream.last().headers
        running.flush()
        assert _count(sqlite_url) == 1
    finally:
        proxy_rig.stop(running)


def test_recording_that_fails_never_fails_the_request(rig: ProxyRig, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an extractor bug")

    monkeypatch.setattr(proxy_calls, "new_event", broken)
    answer = oai(rig).chat.completions.create(model="gpt-4o-mini", messages=USER)
    chunks = list(oai(rig).chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert answer.choices[0].message.content and chunks
    assert rig.background.server.recording_failures == 2
    assert "could not be recorded" in caplog.text and "an extractor bug" in caplog.text
    monkeypatch.undo()
    monkeypatch.setattr(rig.recorder, "enqueue", broken)  # the queue itself fails
    assert oai(rig).chat.completions.create(model="gpt-4o-mini", messages=USER).choices
    assert rig.background.server.recording_failures == 3


def test_the_planted_key_is_stored_and_logged_nowhere(rig: ProxyRig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    client = oai(rig, **{"obs-user-id": "u-1"})
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="fail-429", messages=USER)
    claude(rig).messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert len(stored(rig, 4)) == 4
    tables, holding = proxy_rig.tables_holding(rig.db_url, "PLANTED")
    assert "llm_calls" in tables and holding == [] and "PLANTED" not in caplog.text


def test_the_database_stopped_mid_load_loses_no_call_and_stores_each_once(
    upstream: Upstream, postgres_url: str, tmp_path: Path
) -> None:
    url = make_url(config.normalize_database_url(postgres_url))
    tcp = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=tcp.port).render_as_string(hide_password=False)
    tcp.up()
    Store(proxied).close()
    running = proxy_rig.start(upstream, proxied, tmp_path / "spool")
    answered: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        session = openai.OpenAI(base_url=f"{running.url}/v1", api_key=KEY, max_retries=0)
        for i in range(n):
            stream = i % 3 == 0
            result = session.chat.completions.create(model="gpt-4o-mini", stream=stream,
                                                     messages=[{"role": "user", "content": f"q{i}"}])  # fmt: skip
            if stream:
                assert list(result)  # type: ignore[arg-type]
            with lock:
                answered.append(i)

    try:
        workers = [threading.Thread(target=client, args=(60,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        tcp.down()  # the database goes away under load ...
        time.sleep(2.0)
        tcp.up()  # ... and comes back
        for worker in workers:
            worker.join(60)
        assert len(answered) == 240  # every request answered
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = running.recorder.stats()
            if _count(postgres_url) >= 240 and stats.written + stats.replayed >= 240:
                break
            time.sleep(0.5)
        assert _count(postgres_url) == 240  # each call once
        stats = running.recorder.stats()
        assert stats.spooled > 0 and stats.replayed > 0 and stats.dropped == 0  # the outage did hit the load
    finally:
        proxy_rig.stop(running)
        tcp.down()


def _count(url: str) -> int:
    engine = sa.create_engine(config.normalize_database_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM llm_calls WHERE source = 'proxy'")).scalar_one())
    finally:
        engine.dispose()
