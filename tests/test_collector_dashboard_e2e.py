"""An OTLP call on the dashboard, in Debian's Chromium: shown like any other call, with its source."""

from __future__ import annotations

import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from obs.collector.receiver import Receiver
from obs.recorder.queue import Recorder
from obs.store.store import Store
from tests.browser import ARTIFACTS, browser_page, dashboard_server, needs_chromium

pytestmark = needs_chromium
FIXTURE = Path(__file__).parent / "otlp_fixtures" / "openllmetry" / "chat.pb"


def test_an_otlp_call_is_on_the_calls_page_with_its_source_and_content(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url = f"sqlite:///{tmp_path / 'obs.db'}"
    Store(url).close()
    recorder = Recorder(url, spool_dir=tmp_path / "spool")
    request = ExportTraceServiceRequest.FromString(FIXTURE.read_bytes())
    spans = request.resource_spans[0].scope_spans[0].spans
    shift = time.time_ns() - 60_000_000_000 - min(s.start_time_unix_nano for s in spans)  # recorded then, sent now
    for span in spans:
        span.start_time_unix_nano += shift
        span.end_time_unix_nano += shift
    assert Receiver(recorder).export(request).accepted == 2
    recorder.shutdown(timeout=5)
    call_id = next(s.span_id.hex() for s in spans if s.name == "openai.chat")
    with dashboard_server(url) as base, browser_page(viewport={"width": 1400, "height": 1100}) as page:
        page.goto(f"{base}/Calls?window=24h&call={call_id}")
        expect(page.get_by_text("What the model saw")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("source otlp")).to_be_visible()
        expect(page.get_by_text("You are a terse assistant. Answer in one sentence.")).to_be_visible()
        expect(page.get_by_text("Echo: What is the capital of France?", exact=True)).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "11-otlp-call.png", full_page=True)
