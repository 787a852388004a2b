"""litellm calls recorded through ``obs.litellm_callback()``: the real litellm and openai SDK, a real local HTTP
server speaking the OpenAI API (the fake of tests/fake_openai.py, streams included), a real store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported: no fetch from GitHub

import litellm
import openai
from litellm.integrations.custom_logger import CustomLogger

import obs
from obs.records import LLMCall
from tests.capture_rig import USER, WEATHER_TOOL, Rig
from tests.fake_openai import FakeServer

ROOT = Path(__file__).resolve().parents[1]
#: gpt-4o-mini per million tokens (genai-prices): input, cached input, output.
GPT_4O_MINI = (Decimal("0.15"), Decimal("0.075"), Decimal("0.6"))
NO_RETRIES = {"num_retries": 0, "max_retries": 0}


class Finished(CustomLogger):
    """Counts the calls litellm has finished logging. It comes after obs's callback in ``litellm.callbacks``, and
    litellm runs a call's callbacks in order, so once it has seen a call obs has handed that call to the recorder."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._seen = threading.Condition()

    def _saw(self) -> None:
        with self._seen:
            self.count += 1
            self._seen.notify_all()

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._saw()

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._saw()

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._saw()

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._saw()

    def wait(self, count: int) -> None:
        with self._seen:
            assert self._seen.wait_for(lambda: self.count >= count, timeout=10), f"litellm logged {self.count} calls"


@dataclass
class Lite:
    """The rig's fake OpenAI API behind a real HTTP server on 127.0.0.1, with obs's callback in litellm."""

    rig: Rig
    server: FakeServer
    finished: Finished

    @property
    def api(self) -> dict[str, Any]:
        return {"api_base": self.server.url, "api_key": "sk-test"}

    def calls(self, trace_id: str, litellm_calls: int) -> list[LLMCall]:
        """The calls stored in a trace, once litellm has logged ``litellm_calls`` calls; oldest first."""
        self.finished.wait(litellm_calls)
        found = [self.rig.store.get_call(c.id) for c in self.rig.trace(trace_id).calls]
        return sorted((c for c in found if c is not None), key=lambda c: c.ts)

    async def logged(self, count: int) -> None:
        """Let the event loop run until litellm has logged ``count`` calls: litellm logs async calls in a task on
        the loop, which ``asyncio.run`` would cancel on return."""
        await asyncio.to_thread(self.finished.wait, count)

    def only_call(self, trace_id: str) -> LLMCall:
        calls = self.calls(trace_id, 1)
        assert len(calls) == 1
        return calls[0]


@pytest.fixture
def lite(rig: Rig) -> Iterator[Lite]:
    served = FakeServer(rig.fake)
    finished = Finished()
    litellm.callbacks = [obs.litellm_callback(), finished]
    yield Lite(rig, served, finished)
    reset_callbacks()
    served.close()


def reset_callbacks() -> None:
    """litellm copies ``callbacks`` into its per-event lists on the first call: empty them all."""
    for name in ("callbacks", "input_callback", "success_callback", "failure_callback"):
        setattr(litellm, name, [])
    litellm._async_success_callback = []
    litellm._async_failure_callback = []


def gpt_4o_mini_cost(call: LLMCall) -> Decimal:
    assert call.prompt_tokens is not None and call.cached_tokens is not None and call.completion_tokens is not None
    fresh, cached = call.prompt_tokens - call.cached_tokens, call.cached_tokens
    return (fresh * GPT_4O_MINI[0] + cached * GPT_4O_MINI[1] + call.completion_tokens * GPT_4O_MINI[2]) / 10**6


def test_completion_is_recorded_like_a_wrapped_openai_call(lite: Lite) -> None:
    before = datetime.now(UTC)
    with obs.trace("triage", user_id="u42", tenant_id="acme", feature="ticket_triage", prompt_version="v3") as t:
        response = litellm.completion(model="openai/gpt-4o-mini", messages=USER, temperature=0.2, seed=7, **lite.api)
    call = lite.only_call(t.trace_id)
    sent = lite.rig.fake.requests[-1]
    assert (call.user_id, call.tenant_id, call.feature, call.prompt_version) == ("u42", "acme", "ticket_triage", "v3")
    assert call.parent_id == t.id and call.source == "sdk"
    assert call.model == "gpt-4o-mini" and call.response_model == "gpt-4o-mini" and call.provider == "openai"
    assert call.temperature == 0.2 and call.params == {"model": "gpt-4o-mini", "temperature": 0.2, "seed": 7} == {
        k: v for k, v in sent.items() if k != "messages"}  # fmt: skip
    assert call.status == "ok" and call.finish_reason == "stop" and not call.stream
    usage = response.usage
    assert (call.prompt_tokens, call.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert call.cached_tokens == usage.prompt_tokens_details.cached_tokens == usage.prompt_tokens // 2
    assert call.reasoning_tokens == usage.completion_tokens_details.reasoning_tokens == 8
    assert call.cost_usd is not None and call.cost_usd == gpt_4o_mini_cost(call)
    assert call.content is not None and call.content.messages == sent["messages"] == USER
    assert call.content.system_prompt == "You triage tickets."
    assert call.content.output_text == response.choices[0].message.content == "Echo: My printer is on fire "
    assert call.content.response["id"] == response.id
    assert before <= call.ts <= datetime.now(UTC) and call.ts.tzinfo is not None
    assert call.latency_ms is not None and call.latency_ms_first_token is None


def test_tool_calls_and_the_tools_sent_are_recorded(lite: Lite) -> None:
    with obs.trace("tools") as t:
        litellm.completion(model="openai/gpt-4o-mini", messages=USER, tools=WEATHER_TOOL, **lite.api)
    call = lite.only_call(t.trace_id)
    assert call.content is not None and call.content.tools == WEATHER_TOOL
    assert call.finish_reason == "tool_calls" and call.content.tool_calls is not None
    assert call.content.tool_calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_acompletion_carries_the_trace_span_and_attributes_of_the_caller(lite: Lite) -> None:
    @obs.observe()
    async def answer() -> Any:
        with obs.span("generate", feature="faq") as s:
            reply = await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, **lite.api)
        return s.id, reply

    async def main() -> tuple[str, str, Any]:
        async with obs.trace("ask", user_id="u7", tenant_id="t1") as t:
            span_id, reply = await answer()
        await lite.logged(1)
        return t.trace_id, span_id, reply

    trace_id, span_id, reply = asyncio.run(main())
    call = lite.only_call(trace_id)
    assert call.parent_id == span_id
    assert (call.user_id, call.tenant_id, call.feature) == ("u7", "t1", "faq")
    assert call.status == "ok" and call.content is not None
    assert call.content.output_text == reply.choices[0].message.content
    assert call.cost_usd == gpt_4o_mini_cost(call)


def test_stream_is_recorded_with_time_to_first_token_provider_usage_and_the_assembled_text(lite: Lite) -> None:
    with obs.trace("stream", user_id="u1") as t:
        stream = litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True,
                                    stream_options={"include_usage": True}, **lite.api)  # fmt: skip
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    call = lite.only_call(t.trace_id)
    sent = lite.rig.fake.requests[-1]
    assert text == "Echo: My printer is on fire "
    # litellm calls the success callback of a sync stream on a pool thread: the context came from the caller.
    assert call.user_id == "u1" and call.parent_id == t.id
    assert call.stream and call.status == "ok" and call.finish_reason == "stop"
    assert call.latency_ms is not None and call.latency_ms_first_token is not None
    assert 0 <= call.latency_ms_first_token <= call.latency_ms
    assert call.content is not None and call.content.output_text == text
    assert call.prompt_tokens == len(json.dumps(sent["messages"])) // 4  # the provider's usage (tests/fake_openai.py)
    assert call.cached_tokens == call.prompt_tokens // 2 and call.reasoning_tokens == 8
    assert call.cost_usd == gpt_4o_mini_cost(call)
    assert call.params == {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True}}


def test_async_stream_is_recorded_with_time_to_first_token_usage_and_the_assembled_text(lite: Lite) -> None:
    async def main() -> tuple[str, str, str]:
        with obs.trace("astream", feature="chat") as t:
            stream = await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, stream=True, **lite.api)
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        await lite.logged(1)
        return t.trace_id, t.id, text

    trace_id, trace_span, text = asyncio.run(main())
    call = lite.only_call(trace_id)
    assert text == "Echo: My printer is on fire "
    assert call.feature == "chat" and call.parent_id == trace_span
    assert call.stream and call.status == "ok"
    assert call.latency_ms is not None and call.latency_ms_first_token is not None
    assert 0 <= call.latency_ms_first_token <= call.latency_ms
    assert call.content is not None and call.content.output_text == text
    # No usage asked for: the tokens are litellm's count of the streamed text, still priced.
    assert call.prompt_tokens and call.completion_tokens and call.cost_usd is not None


def test_embeddings_are_recorded_with_usage_and_cost_but_not_the_vectors(lite: Lite) -> None:
    async def aembed() -> Any:
        embedded = await litellm.aembedding(model="openai/text-embedding-3-small", input=["one"], **lite.api)
        await lite.logged(2)
        return embedded

    with obs.trace("embed", feature="search") as t:
        litellm.embedding(model="openai/text-embedding-3-small", input=["alpha", "beta"], **lite.api)
        asyncio.run(aembed())
    calls = lite.calls(t.trace_id, 2)
    assert [c.content.messages for c in calls if c.content] == [["alpha", "beta"], ["one"]]
    for call, count in zip(calls, (2, 1), strict=True):
        assert call.model == "text-embedding-3-small" and call.provider == "openai" and call.feature == "search"
        assert call.prompt_tokens == 5 * count and call.completion_tokens == 0
        assert call.cost_usd == Decimal("0.02") * 5 * count / 10**6
        assert call.content is not None
        assert call.content.response["count"] == count and call.content.response["dimensions"] == 4
        assert set(call.content.response) == {"object", "model", "count", "dimensions", "usage"}  # no vectors


def test_a_rate_limit_error_is_recorded_and_reaches_the_caller_unchanged(lite: Lite) -> None:
    with obs.trace("limited") as t, pytest.raises(litellm.RateLimitError) as raised:
        litellm.completion(model="openai/fail-429", messages=USER, **NO_RETRIES, **lite.api)
    call = lite.only_call(t.trace_id)
    assert raised.value.status_code == 429
    assert call.status == "error" and call.error_type == "RateLimitError"
    assert call.error == f"RateLimitError (429): {raised.value}" and "fake 429" in call.error
    assert call.model == "fail-429" and call.cost_usd is None and call.prompt_tokens is None
    assert call.content is not None and call.content.messages == USER


def test_an_async_server_error_is_recorded_and_reaches_the_caller_unchanged(lite: Lite) -> None:
    async def main() -> tuple[str, BaseException]:
        with obs.trace("broken") as t:
            try:
                await litellm.acompletion(model="openai/fail-500", messages=USER, **NO_RETRIES, **lite.api)
            except litellm.InternalServerError as exc:
                await lite.logged(1)
                return t.trace_id, exc
        raise AssertionError("the 500 was not raised")

    trace_id, error = asyncio.run(main())
    call = lite.only_call(trace_id)
    assert call.status == "error" and call.error_type == "InternalServerError"
    assert call.error == f"InternalServerError (500): {error}" and "fake 500" in call.error


def test_an_unpriced_model_is_stored_with_cost_none_not_zero(lite: Lite) -> None:
    with obs.trace("local") as t:
        litellm.completion(model="openai/house-model-7b", messages=USER, **lite.api)
    call = lite.only_call(t.trace_id)
    assert call.model == "house-model-7b" and call.prompt_tokens and call.cost_usd is None


def test_litellm_through_a_wrapped_openai_client_is_one_row(lite: Lite) -> None:
    sync = obs.wrap(openai.OpenAI(api_key="sk-test", base_url=lite.server.url, max_retries=0))
    async_ = obs.wrap(openai.AsyncOpenAI(api_key="sk-test", base_url=lite.server.url, max_retries=0))

    async def acalls() -> None:
        await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, client=async_)
        async for _ in await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, stream=True, client=async_):
            pass
        # encoding_format makes litellm call client.embeddings.with_raw_response.create, which obs wraps.
        await litellm.aembedding(model="openai/text-embedding-3-small", input=["x"], encoding_format="float",
                                 client=async_)  # fmt: skip
        await lite.logged(6)

    with obs.trace("through") as t:
        litellm.completion(model="openai/gpt-4o-mini", messages=USER, client=sync)
        for _ in litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, client=sync):
            pass
        litellm.embedding(model="openai/text-embedding-3-small", input=["x"], encoding_format="float", client=sync)
        asyncio.run(acalls())
    calls = lite.calls(t.trace_id, 6)
    assert len(lite.rig.fake.requests) == 6
    assert sorted((c.model, c.stream) for c in calls) == [("gpt-4o-mini", False)] * 2 + [("gpt-4o-mini", True)] * 2 + [
        ("text-embedding-3-small", False)] * 2  # fmt: skip


def test_a_wrapped_client_still_records_its_own_calls_before_and_after_litellm_used_it(lite: Lite) -> None:
    texts = ["same list"]

    async def main() -> str:
        client = obs.wrap(openai.AsyncOpenAI(api_key="sk-test", base_url=lite.server.url, max_retries=0))
        with obs.trace("mixed") as t:
            await client.embeddings.create(model="text-embedding-3-large", input=texts)
            await litellm.aembedding(model="openai/text-embedding-3-small", input=texts, encoding_format="float",
                                     client=client)  # fmt: skip
            await client.embeddings.create(model="text-embedding-3-large", input=texts)
        await lite.logged(1)
        return t.trace_id

    trace_id = asyncio.run(main())
    with obs.trace("mixed-sync") as t:
        lite.rig.client.embeddings.create(model="text-embedding-3-large", input=texts)
        litellm.embedding(model="openai/text-embedding-3-small", input=texts, encoding_format="float",
                          client=lite.rig.client)  # fmt: skip
        lite.rig.client.embeddings.create(model="text-embedding-3-large", input=texts)
    for trace, logged in ((trace_id, 1), (t.trace_id, 2)):
        calls = lite.calls(trace, logged)
        assert [c.model for c in calls] == [
            "text-embedding-3-large",
            "text-embedding-3-small",
            "text-embedding-3-large",
        ]


def test_a_recorder_failure_never_reaches_litellm_or_the_app(lite: Lite, caplog: pytest.LogCaptureFixture) -> None:
    from obs.capture import litellm as capture

    def broken(event: object) -> None:
        raise RuntimeError("the recorder broke")

    litellm.callbacks = [capture.ObsLogger(broken), lite.finished]
    caplog.set_level("DEBUG", logger="LiteLLM")
    response = litellm.completion(model="openai/gpt-4o-mini", messages=USER, **lite.api)
    text = "".join(c.choices[0].delta.content or "" for c in litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True, **lite.api) if c.choices)  # fmt: skip
    assert response.choices[0].message.content == text == "Echo: My printer is on fire "
    lite.finished.wait(2)
    assert obs.flush(10)
    assert not [r for r in caplog.records if "the recorder broke" in r.getMessage() or r.exc_info]


def _run(code: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_litellm_integration_makes_no_network_request() -> None:
    code = """
import json, sys
seen = []
NETWORK = {"socket.getaddrinfo", "socket.connect"}
sys.addaudithook(lambda event, args: seen.append(str(args[0])) if event in NETWORK else None)
import obs
obs.litellm_callback()
import litellm
print(json.dumps({"network": seen, "litellm": litellm.__file__}))
"""
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    env["PYTHONPATH"] = str(ROOT)
    result = _run(code, env)
    assert result["network"] == [] and result["litellm"]


def test_obs_imports_and_records_without_litellm_installed(tmp_path: Path) -> None:
    code = """
import json, sys
sys.modules["litellm"] = None  # import litellm raises ImportError, as when it is not installed
import obs
try:
    obs.litellm_callback()
    asked = "no error"
except ImportError as exc:
    asked = "ImportError"
print(json.dumps({"loaded": "obs.capture.litellm" in sys.modules, "asked": asked}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OBS_DATABASE_URL": f"sqlite:///{tmp_path / 'obs.db'}"}
    assert _run(code, env) == {"loaded": False, "asked": "ImportError"}
