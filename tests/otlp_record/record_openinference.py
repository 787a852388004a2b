"""OpenInference (Arize's openinference-instrumentation-openai), content on (its default; OPENINFERENCE_HIDE_* unset).
``using_attributes`` is OpenInference's own way to put session.id / user.id / metadata / tags on every span inside it,
so the LLM spans carry them too; the parent is a CHAIN span with input.value / output.value. The exporter compresses
with gzip here (OTEL_EXPORTER_OTLP_COMPRESSION): the .pb files are the decompressed bodies, manifest.json says so."""

import contextlib
import json
import os
from collections.abc import Iterator

from harness import QUESTION, record

os.environ["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"


def instrument() -> None:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()


@contextlib.contextmanager
def context(case: str) -> Iterator[None]:
    from openinference.instrumentation import using_attributes

    with using_attributes(
        session_id="session-7",
        user_id="user-42",
        metadata={"tenant_id": "acme", "feature": "faq", "case": case},
        tags=["fixture"],
        prompt_template_version="v3",
    ):
        yield


record(
    "openinference",
    instrument,
    {
        "openinference.span.kind": "CHAIN",
        "input.value": json.dumps({"question": QUESTION}),
        "input.mime_type": "application/json",
        "output.value": "Paris",
    },
    context=context,
)
