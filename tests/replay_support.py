"""Helpers for replay tests: record calls into a store through the real recorder and the demo provider."""

from __future__ import annotations

from typing import Any

import openai

from obs.capture.openai import instrument
from obs.recorder.queue import Recorder
from obs.records import new_span_id

CONTEXT = (
    "Invoices are emailed to the billing contact on the first day of each period. You can download past invoices "
    "as PDF from Settings, then Billing, then Invoices. We accept credit cards and, on yearly plans, bank transfer."
)
SYSTEM = f"Be concise.\n\nContext:\n{CONTEXT}"
QUESTION = "How do I download past invoices as PDF?"
FRIENDLY = f"Be friendly and answer in bullet points.\n\nContext:\n{CONTEXT}"


def messages(question: str = QUESTION, system: str = SYSTEM) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def record_calls(database_url: str, base_url: str, requests: list[dict[str, Any]]) -> list[str]:
    """Send each request through a wrapped real openai client (as an app would) and return the obs call ids."""
    recorder = Recorder(database_url)
    client = instrument.wrap(openai.OpenAI(base_url=base_url, api_key="app-key", max_retries=0), recorder.enqueue)
    ids = []
    for request in requests:
        call_id = new_span_id()
        try:
            result = client.chat.completions.create(**request, obs={"call_id": call_id, "feature": "help_answer"})
            if request.get("stream"):
                for _ in result:
                    pass
        except openai.APIError:
            pass  # recorded as an error call, like in an app
        ids.append(call_id)
    assert recorder.flush(30)
    recorder.shutdown(timeout=1)
    return ids


def fails(question: str, system: str, model: str = "gpt-5-mini") -> bool:
    """Whether the demo provider answers this question with a planted 429/500 (it is deterministic)."""
    from obs.demo.replies import plan

    return plan({"model": model, "messages": messages(question, system), "temperature": 0}).error_status is not None


def failing_question(system: str, model: str = "gpt-5-mini", *, after: str | None = None) -> str:
    """A question the demo provider answers with a planted 429/500 (it is deterministic), found by asking its
    planner; with ``after``, one that succeeds with ``system`` but fails once the system prompt is ``after``."""
    for i in range(5000):
        question = f"Ticket {i}: how do I download past invoices as PDF?"
        if (after is None and fails(question, system, model)) or (
            after is not None and not fails(question, system, model) and fails(question, after, model)
        ):
            return question
    raise AssertionError("no failing question found")
