"""The real GenAI instrumentations (OpenLLMetry, OpenInference, the official openai-v2), each in an app process of
its own with the standard OTLP exporter (HTTP and gRPC), against the real collector: every call stored whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from obs.records import LLMCall
from tests.collector_rig import Collector

APP = Path(__file__).parent / "otlp_live_app.py"


def run_app(collector: Collector, instrumentation: str, protocol: str) -> list[str]:
    endpoint = collector.http if protocol == "http/protobuf" else f"http://{collector.grpc}"
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
           "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer s3cret",
           "OTEL_EXPORTER_OTLP_INSECURE": "true"}  # fmt: skip
    done = subprocess.run([sys.executable, str(APP), instrumentation], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def calls(collector: Collector, trace_id: str) -> list[LLMCall]:
    trace = collector.store.get_trace(trace_id)
    assert trace is not None, trace_id
    found = [collector.store.get_call(c.id) for c in trace.calls]
    return [c for c in found if c is not None]


@pytest.mark.parametrize("instrumentation", ["openllmetry", "openinference", "openai_v2"])
@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_each_instrumentation_through_its_exporter_stores_whole_calls(
    collector: Collector, instrumentation: str, protocol: str, db_url: str
) -> None:
    if protocol == "grpc" and not db_url.startswith("sqlite"):
        pytest.skip("the transport does not depend on the store: gRPC runs on SQLite only")
    chat, stream, tool, failed = (calls(collector, t) for t in run_app(collector, instrumentation, protocol))
    for call in (chat[0], stream[0]):
        assert call.source == "otlp" and call.model == "gpt-5-mini" and call.status == "ok"
        assert call.content is not None and call.content.output_text == "Echo: What is the capital of France? "
        assert call.content.system_prompt == "You are a terse assistant. Answer in one sentence."
        assert call.prompt_tokens and call.completion_tokens and call.cost_usd is not None
        assert call.user_id == "u42" and call.tenant_id == "acme"
    tool_calls = tool[0].content.tool_calls if tool[0].content else None
    assert tool_calls and tool_calls[0]["function"]["name"] == "get_weather"
    assert json.loads(tool_calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert failed[0].status == "error" and failed[0].error_type == "RateLimitError"
