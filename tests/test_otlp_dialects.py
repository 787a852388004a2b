"""The three attribute dialects an LLM span comes in, read into one call (pure: no server, no store)."""

from __future__ import annotations

import json

from obs.capture.otlp import dialects
from obs.capture.otlp.values import indexed


def test_openllmetry_keys_are_read_as_a_chat_call() -> None:
    attrs = {
        "gen_ai.system": "openai", "llm.request.type": "chat", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.request.temperature": 0.5,
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "You triage tickets.",
        "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "Route: my invoice is wrong",
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.id": "call_1", "gen_ai.completion.0.tool_calls.0.name": "route_ticket",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"team": "billing"}',
        "llm.request.functions.0.name": "route_ticket", "llm.request.functions.0.description": "Route a ticket",
        "gen_ai.usage.prompt_tokens": 50, "gen_ai.usage.completion_tokens": 12, "llm.usage.total_tokens": 62,
        "gen_ai.usage.cache_read_input_tokens": 32, "llm.is_streaming": False,
        "traceloop.association.properties.user_id": "u7", "traceloop.association.properties.tenant_id": "acme",
        "traceloop.workflow.name": "triage",
    }  # fmt: skip
    assert dialects.is_llm(attrs)
    call = dialects.read(attrs)
    assert (call.provider, call.model, call.response_model) == ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    assert call.system == "You triage tickets."
    assert call.messages == [{"role": "system", "content": "You triage tickets."},
                             {"role": "user", "content": "Route: my invoice is wrong"}]  # fmt: skip
    assert call.tool_calls == [{"id": "call_1", "type": "function",
                                "function": {"name": "route_ticket", "arguments": '{"team": "billing"}'}}]  # fmt: skip
    assert call.finish_reason == "tool_calls" and call.output_text is None
    assert call.tools == [{"name": "route_ticket", "description": "Route a ticket"}]
    assert call.usage == {"prompt": 50, "completion": 12, "cached": 32}
    assert call.params == {"temperature": 0.5} and not call.stream
    assert call.attrs == {"user_id": "u7", "tenant_id": "acme"}
    assert call.metadata == {"traceloop.workflow.name": "triage"}  # unknown: kept, not dropped


def test_openinference_keys_are_read_as_a_chat_call() -> None:
    attrs = {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
        "llm.invocation_parameters": json.dumps({"model": "gpt-4o-mini", "temperature": 0.1, "stream": True}),
        "llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.type": "text",
        "llm.input_messages.1.message.contents.0.message_content.text": "Hello",
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": "Hi!",
        "llm.token_count.prompt": 20, "llm.token_count.completion": 3, "llm.token_count.total": 23,
        "llm.token_count.prompt_details.cache_read": 8, "llm.token_count.completion_details.reasoning": 2,
        "llm.tools.0.tool.json_schema": json.dumps({"type": "function", "function": {"name": "lookup"}}),
        "input.value": '{"messages": []}', "output.value": '{"choices": []}', "input.mime_type": "application/json",
        "session.id": "s-1", "user.id": "u9", "metadata": '{"team": "support"}',
    }  # fmt: skip
    assert dialects.is_llm(attrs)
    call = dialects.read(attrs)
    assert (call.provider, call.model, call.response_model) == ("openai", "gpt-4o-mini", "gpt-4o-mini")
    assert call.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    assert call.system == "Be brief." and call.output_text == "Hi!"
    assert call.usage == {"prompt": 20, "completion": 3, "cached": 8, "reasoning": 2}
    assert call.params == {"temperature": 0.1} and call.stream
    assert call.tools == [{"type": "function", "function": {"name": "lookup"}}]
    assert call.attrs == {"user_id": "u9", "session_id": "s-1"}
    # The raw request and response (input.value, output.value) were read as the messages; the rest is kept.
    assert call.metadata == {"metadata": {"team": "support"}}


def test_genai_tool_calls_and_results_become_chat_messages() -> None:
    asked = [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "weather",
                                         "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"temp": 18}}]},
    ]  # fmt: skip
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4.1",
             "gen_ai.input.messages": json.dumps(asked),
             "gen_ai.output.messages": json.dumps([{"role": "assistant", "finish_reason": "stop",
                                                    "parts": [{"type": "text", "content": "18C."}]}])}  # fmt: skip
    call = dialects.read(attrs)
    assert call.messages == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 18}'},
    ]  # fmt: skip
    assert call.output_text == "18C." and call.finish_reason == "stop"


def test_what_is_not_a_model_call() -> None:
    assert not dialects.is_llm({"openinference.span.kind": "TOOL", "llm.model_name": "x"})
    assert not dialects.is_llm({"gen_ai.operation.name": "execute_tool"})
    assert not dialects.is_llm({"http.method": "POST"})
    assert dialects.is_llm({"gen_ai.operation.name": "embeddings"})


def test_flattened_lists_are_rebuilt_in_index_order() -> None:
    attrs = {"p.10.role": "b", "p.2.role": "a", "p.2.tool_calls.1.name": "y", "p.2.tool_calls.0.name": "x", "q.0": 1}
    assert indexed(attrs, "p") == [{"role": "a", "tool_calls": [{"name": "x"}, {"name": "y"}]}, {"role": "b"}]
