"""The demo provider's API shapes, through the real openai client over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from obs.demo.provider import DemoProvider
from obs.demo.replies import REFUSAL, plan

QUESTION = "How do I download past invoices as PDF?"
CONTEXT = (
    "Invoices are emailed to the billing contact on the first day of each period. You can download past invoices "
    "as PDF from Settings, then Billing, then Invoices. We accept credit cards and, on yearly plans, bank transfer."
)


@pytest.fixture(scope="module")
def client() -> Iterator[openai.OpenAI]:
    with DemoProvider(speed=0) as provider:
        yield openai.OpenAI(base_url=provider.url, api_key="none", max_retries=0)


def ask(client: openai.OpenAI, system: str = "Be concise.", model: str = "gpt-5-mini", **kw: object) -> str:
    messages = [
        {"role": "system", "content": f"{system}\n\nContext:\n{CONTEXT}"},
        {"role": "user", "content": QUESTION},
    ]
    response = client.chat.completions.create(model=model, messages=messages, **kw)  # type: ignore[call-overload]
    return str(response.choices[0].message.content)


def test_chat_completion_answers_from_the_context_with_usage_that_follows_the_text(client: openai.OpenAI) -> None:
    messages = [
        {"role": "system", "content": f"Be concise.\n\nContext:\n{CONTEXT}"},
        {"role": "user", "content": QUESTION},
    ]
    response = client.chat.completions.create(model="gpt-4.1", messages=messages, temperature=0)  # type: ignore[arg-type]
    text = response.choices[0].message.content or ""
    assert "download past invoices" in text and response.choices[0].finish_reason == "stop"
    assert response.usage is not None
    assert response.usage.completion_tokens == pytest.approx(len(text) / 4, abs=2)
    assert response.usage.prompt_tokens > len(CONTEXT) / 4


def test_answers_are_deterministic_and_change_with_prompt_model_and_temperature(client: openai.OpenAI) -> None:
    base = ask(client, temperature=0)
    assert ask(client, temperature=0) == base
    assert ask(client, system="Be friendly.", temperature=0) != base
    assert ask(client, model="gpt-4.1", temperature=0) != base
    assert ask(client, system="Answer as bullet points.", temperature=0).startswith("- ")


def test_streaming_sends_the_same_answer_in_chunks_with_usage_last(client: openai.OpenAI) -> None:
    whole = ask(client, temperature=0)
    messages = [
        {"role": "system", "content": f"Be concise.\n\nContext:\n{CONTEXT}"},
        {"role": "user", "content": QUESTION},
    ]
    stream = client.chat.completions.create(
        model="gpt-5-mini", messages=messages, temperature=0, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert len(chunks) > 4


def test_tool_calls_then_tool_result(client: openai.OpenAI) -> None:
    from obs.demo.app import ROUTE_TOOL, TRIAGE_PROMPT

    messages: list[dict[str, object]] = [
        {"role": "system", "content": TRIAGE_PROMPT},
        {"role": "user", "content": "I was charged twice, please refund one invoice."},
    ]
    first = client.chat.completions.create(model="claude-haiku-4-5", messages=messages, tools=ROUTE_TOOL)  # type: ignore[arg-type]
    call = (first.choices[0].message.tool_calls or [])[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "route_ticket"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments)["team"] == "billing"  # type: ignore[union-attr]
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": call.function.arguments}]  # type: ignore[union-attr]  # fmt: skip
    final = client.chat.completions.create(model="claude-haiku-4-5", messages=messages, tools=ROUTE_TOOL)  # type: ignore[arg-type]
    assert "billing team" in (final.choices[0].message.content or "")


def test_responses_api_and_models_list(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-5-mini", instructions=f"Context:\n{CONTEXT}", input=QUESTION)
    assert "download past invoices" in response.output_text
    assert response.usage is not None and response.usage.input_tokens > 0
    assert {m.id for m in client.models.list()} >= {"gpt-5-mini", "gpt-4.1", "claude-haiku-4-5"}


def test_some_requests_fail_with_429_or_500_on_purpose() -> None:
    statuses = {plan({"model": "gpt-5-mini", "messages": [{"role": "user", "content": f"q{i}"}]}).error_status
                for i in range(600)}  # fmt: skip
    assert {429, 500, None} <= statuses


def test_a_429_reaches_the_client_as_a_rate_limit_error(client: openai.OpenAI) -> None:
    failing = next(
        f"q{i}" for i in range(2000)
        if plan({"model": "gpt-5-mini", "messages": [{"role": "user", "content": f"q{i}"}]}).error_status == 429
    )  # fmt: skip
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": failing}])


def test_claude_refuses_often_when_told_to_refuse_if_unsure() -> None:
    def refusals(system: str) -> int:
        return sum(
            plan({"model": "claude-haiku-4-5", "messages": [
                {"role": "system", "content": f"{system}\n\nContext:\n{CONTEXT}"},
                {"role": "user", "content": f"{QUESTION} ({i})"}]}).text == REFUSAL
            for i in range(300)
        )  # fmt: skip

    assert refusals("Answer from the context; refuse rather than guess.") > 50
    assert refusals("Answer from the context.") == 0


def test_latency_follows_the_model_and_the_prompt_size() -> None:
    short = {"model": "gpt-4.1", "messages": [{"role": "user", "content": QUESTION}], "temperature": 0}
    long = {**short, "messages": [{"role": "system", "content": CONTEXT * 10}, *short["messages"]]}  # type: ignore[misc]
    assert plan(long).ttft_ms > plan(short).ttft_ms + 500
    assert plan({**short, "model": "claude-haiku-4-5"}).total_ms < plan(short).total_ms
