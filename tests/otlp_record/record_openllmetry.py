"""OpenLLMetry (traceloop's opentelemetry-instrumentation-openai) with content on (TRACELOOP_TRACE_CONTENT, the
default), its default attribute mode (gen_ai.prompt.N.* / gen_ai.completion.N.*). The parent span carries what the
traceloop SDK's @workflow and association properties would set, since the fixtures use the instrumentation alone."""

import os

from harness import record

os.environ.setdefault("TRACELOOP_TRACE_CONTENT", "true")


def instrument() -> None:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()


record(
    "openllmetry",
    instrument,
    {
        "traceloop.span.kind": "workflow",
        "traceloop.workflow.name": "answer_question",
        "traceloop.entity.name": "answer_question",
        "traceloop.association.properties.user_id": "user-42",
        "traceloop.association.properties.session_id": "session-7",
        "traceloop.association.properties.tenant_id": "acme",
    },
    grpc_case="chat",
)
