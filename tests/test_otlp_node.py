"""A Node.js app: the openai npm client instrumented by OpenInference JS, exporting with the standard OTLP exporters
(protobuf, JSON, gRPC: chunked bodies and hex ids included) to the real collector. `make test` installs
tests/otlp_node/ from its lockfile (npm ci)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.collector_rig import Collector
from tests.fake_openai import FakeOpenAI, FakeServer

APP = Path(__file__).parent / "otlp_record" / "record_openinference_js.js"
MODULES = Path(__file__).parent / "otlp_node" / "node_modules"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and MODULES.is_dir()), reason="needs node and `npm ci` in tests/otlp_node (make test)"
)


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json", "grpc"])
def test_a_node_app_instrumented_by_openinference_is_stored_whole(
    collector: Collector, protocol: str, db_url: str
) -> None:
    if protocol != "http/protobuf" and not db_url.startswith("sqlite"):
        pytest.skip("the transport does not depend on the store: JSON and gRPC run on SQLite only")
    fake = FakeServer(FakeOpenAI())
    endpoint = f"http://{collector.grpc}" if protocol == "grpc" else collector.http
    env = {**os.environ, "OPENAI_BASE_URL": fake.url, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
           "OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer s3cret",
           "CASES": "chat,tool_call"}  # fmt: skip
    try:
        done = subprocess.run(["node", str(APP)], env=env, capture_output=True, text=True, timeout=120)
    finally:
        fake.close()
    assert done.returncode == 0, done.stderr
    with collector.store.engine.connect() as connection:
        ids = connection.execute(sa.text("SELECT id FROM llm_calls WHERE source = 'otlp' ORDER BY ts")).scalars().all()
    chat, tool = (collector.store.get_call(i) for i in ids)
    assert chat is not None and chat.content is not None and tool is not None and tool.content is not None
    assert chat.model == "gpt-5-mini" and chat.response_model == "gpt-5-mini-2025-08-07" and chat.status == "ok"
    assert chat.content.system_prompt == "You are a terse assistant. Answer in one sentence."
    assert chat.content.output_text == "Echo: What is the capital of France? "
    assert (chat.prompt_tokens, chat.cached_tokens, chat.reasoning_tokens) == (37, 18, 8) and chat.cost_usd
    assert (chat.user_id, chat.session_id) == ("user-42", "session-7")
    assert tool.content.tool_calls and tool.content.tool_calls[0]["function"]["name"] == "get_weather"
    trace = collector.store.get_trace(chat.trace_id)
    assert trace is not None and [s.name for s in trace.spans] == ["answer_question"]
