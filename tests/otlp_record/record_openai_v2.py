"""The official OTel contrib instrumentation (opentelemetry-instrumentation-openai-v2), content capture on.

    python record_openai_v2.py          # OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental,
                                        # capture span_and_event -> tests/otlp_fixtures/openai_v2/
    python record_openai_v2.py legacy   # its default conventions, capture "true" -> openai_v2_legacy/

Inside the parent span, util-genai's own ``workflow`` invocation adds a GenAI workflow span between the parent and
the chat span (opentelemetry-util-genai 1.1b0 has no conversation id on it yet: 1.2b0+ does, but 2.4b0 of the
instrumentation does not import with those, see NOTES.md).
"""

import contextlib
import os
import sys
from collections.abc import Iterator

LEGACY = sys.argv[1:] == ["legacy"]
if LEGACY:
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
else:
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "span_and_event"

from harness import record  # noqa: E402


def instrument() -> None:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()


@contextlib.contextmanager
def context(case: str) -> Iterator[None]:
    if LEGACY:
        yield
        return
    from opentelemetry.util.genai.handler import TelemetryHandler

    with TelemetryHandler().workflow("answer_question"):
        yield


record(
    "openai_v2_legacy" if LEGACY else "openai_v2",
    instrument,
    {"user.id": "user-42", "session.id": "session-7", "gen_ai.conversation.id": "session-7"},
    context=context,
    logs=True,
)
