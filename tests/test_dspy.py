"""dspy calls litellm, so ``obs.litellm_callback()`` records a dspy program's LM calls: the real dspy, litellm and
openai SDK against a real local HTTP server speaking the OpenAI API, a real store."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported: no fetch from GitHub

import dspy
import httpx2
import litellm

import obs
from tests.capture_rig import Rig
from tests.fake_openai import FakeOpenAI, FakeServer
from tests.test_capture_litellm import Finished, gpt_4o_mini_cost, reset_callbacks

#: What dspy's ChatAdapter expects a model to answer for the signature ``question -> answer``.
ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


class DspyFake(FakeOpenAI):
    """The fake OpenAI API, answering chat completions in the field format dspy's ChatAdapter parses."""

    def _respond(self, request: httpx2.Request) -> httpx2.Response:
        response = super()._respond(request)
        if request.url.path.endswith("/chat/completions") and response.status_code == 200:
            body = json.loads(response.content)
            body["choices"][0]["message"]["content"] = ANSWER
            return httpx2.Response(200, json=body, request=request)
        return response


@pytest.fixture
def lm(rig: Rig) -> Iterator[tuple[dspy.LM, DspyFake, Finished]]:
    fake = DspyFake()
    server = FakeServer(fake)
    finished = Finished()
    litellm.callbacks = [obs.litellm_callback(), finished]
    # dspy 3.4 calls litellm only with engine="litellm": its default ("auto") sends OpenAI models to its own
    # bundled lm15 engine, which litellm (and so this callback) never sees.
    model = dspy.LM("openai/gpt-4o-mini", api_base=server.url, api_key="x", cache=False, engine="litellm")
    yield model, fake, finished
    reset_callbacks()
    server.close()


def test_a_dspy_predict_call_is_recorded(rig: Rig, lm: tuple[dspy.LM, DspyFake, Finished]) -> None:
    model, fake, finished = lm
    predict = dspy.Predict("question -> answer")
    with dspy.context(lm=model), obs.trace("qa", user_id="u9", feature="dspy_qa") as t:
        prediction = predict(question="What is the capital of France?")
    finished.wait(1)
    call = rig.only_call(t.trace_id)
    sent = fake.requests[-1]
    assert prediction.answer == "Paris"
    assert (call.user_id, call.feature, call.parent_id) == ("u9", "dspy_qa", t.id)
    assert call.model == "gpt-4o-mini" and call.provider == "openai" and call.status == "ok"
    assert call.content is not None and call.content.messages == sent["messages"]
    assert call.content.system_prompt is not None and "`answer`" in call.content.system_prompt
    assert "What is the capital of France?" in sent["messages"][-1]["content"]
    assert call.content.output_text == ANSWER
    # dspy sends its User-Agent as a header: kept among the params with its value redacted, as a wrapped client does.
    assert call.params == {"model": "gpt-4o-mini", "extra_headers": {"User-Agent": "<redacted>"}}
    assert {k: v for k, v in sent.items() if k != "messages"} == {"model": "gpt-4o-mini"}
    assert call.prompt_tokens and call.completion_tokens and call.cached_tokens == call.prompt_tokens // 2
    assert call.reasoning_tokens == 8 and call.cost_usd is not None and call.cost_usd == gpt_4o_mini_cost(call)
    assert call.latency_ms is not None and not call.stream


def test_an_async_dspy_predict_call_is_recorded_in_its_trace(rig: Rig, lm: tuple[dspy.LM, DspyFake, Finished]) -> None:
    model, _, finished = lm
    predict = dspy.Predict("question -> answer")

    async def main() -> tuple[str, str, str]:
        with dspy.context(lm=model):
            async with obs.trace("aqa", tenant_id="acme") as t:
                with obs.span("predict") as s:
                    prediction = await predict.acall(question="What is the capital of France?")
        await asyncio.to_thread(finished.wait, 1)  # litellm logs async calls in a task on this loop
        return t.trace_id, s.id, prediction.answer

    trace_id, span_id, answer = asyncio.run(main())
    call = rig.only_call(trace_id)
    assert answer == "Paris"
    assert call.tenant_id == "acme" and call.parent_id == span_id
    assert call.model == "gpt-4o-mini" and call.status == "ok" and call.cost_usd is not None


# --- dspy's default engine (its bundled lm15 client, not litellm): obs.dspy_callback() -------------------


@pytest.fixture
def native(rig: Rig) -> Iterator[tuple[DspyFake, str]]:
    fake = DspyFake()
    server = FakeServer(fake)
    with dspy.context(callbacks=[obs.dspy_callback()]):
        yield fake, server.url
    server.close()


def test_the_default_engine_is_recorded_through_dspys_callbacks(rig: Rig, native: tuple[DspyFake, str]) -> None:
    fake, url = native
    model = dspy.LM("openai/gpt-4o-mini", api_base=url, api_key="x", cache=False, temperature=0.3)
    with dspy.context(lm=model), obs.trace("qa", user_id="u9", feature="dspy_qa") as t:
        prediction = dspy.Predict("question -> answer")(question="What is the capital of France?")
    call = rig.only_call(t.trace_id)
    sent = fake.requests[-1]
    assert prediction.answer == "Paris"
    assert (call.user_id, call.feature, call.parent_id) == ("u9", "dspy_qa", t.id)
    assert (call.model, call.provider, call.status, call.stream) == ("gpt-4o-mini", "openai", "ok", False)
    assert call.content is not None and call.content.messages == sent["messages"]
    assert call.content.system_prompt is not None and "`answer`" in call.content.system_prompt
    assert call.content.output_text == ANSWER and call.finish_reason == "stop"
    assert call.temperature == 0.3 and sent["temperature"] == 0.3
    assert call.prompt_tokens and call.completion_tokens and call.cached_tokens == call.prompt_tokens // 2
    assert call.reasoning_tokens == 8 and call.cost_usd == gpt_4o_mini_cost(call)
    assert call.latency_ms is not None


def test_the_default_engine_is_recorded_async_and_failures_too(rig: Rig, native: tuple[DspyFake, str]) -> None:
    _, url = native
    model = dspy.LM("openai/gpt-4o-mini", api_base=url, api_key="x", cache=False)
    failing = dspy.LM("openai/fail-500", api_base=url, api_key="x", cache=False, num_retries=0)

    async def main() -> str:
        with dspy.context(lm=model):
            async with obs.trace("aqa", tenant_id="acme") as t:
                await dspy.Predict("question -> answer").acall(question="What is the capital of France?")
                with dspy.context(lm=failing), pytest.raises(Exception):  # noqa: B017 - dspy's own error type
                    await dspy.Predict("question -> answer").acall(question="And of Spain?")
        return t.trace_id

    calls = sorted(rig.trace(asyncio.run(main())).calls, key=lambda c: c.status)
    assert [(c.model, c.status, c.tenant_id) for c in calls] == [
        ("fail-500", "error", "acme"), ("gpt-4o-mini", "ok", "acme")]  # fmt: skip
    assert calls[0].error is not None and "500" in calls[0].error


def test_a_call_through_litellm_with_both_callbacks_is_recorded_once(
    rig: Rig, lm: tuple[dspy.LM, DspyFake, Finished]
) -> None:
    model, _, finished = lm
    with dspy.context(lm=model, callbacks=[obs.dspy_callback()]), obs.trace("both") as t:
        dspy.Predict("question -> answer")(question="What is the capital of France?")
    finished.wait(1)
    call = rig.only_call(t.trace_id)  # exactly one
    assert call.params == {"model": "gpt-4o-mini", "extra_headers": {"User-Agent": "<redacted>"}}  # litellm's record


def test_the_lms_key_and_endpoint_are_not_stored(rig: Rig, native: tuple[DspyFake, str]) -> None:
    _, url = native
    model = dspy.LM("openai/gpt-4o-mini", api_base=url, api_key="sk-dspy-secret", cache=False, max_tokens=300)
    with dspy.context(lm=model), obs.trace("secret") as t:
        dspy.Predict("question -> answer")(question="What is the capital of France?")
    call = rig.only_call(t.trace_id)
    assert call.params is not None and call.params["max_tokens"] == 300
    assert "sk-dspy-secret" not in json.dumps([call.params, call.metadata]) and url not in json.dumps(call.params)
