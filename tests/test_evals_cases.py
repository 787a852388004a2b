"""The pure work on eval cases: the input an eval replays, the prefilled answer, labels, dedupe, table edits."""

from __future__ import annotations

from datetime import UTC, datetime

from obs.evals.cases import (
    CaseEdit,
    DatasetCase,
    EvalCase,
    duplicates,
    input_messages,
    parse_labels,
    prefill,
    table_edits,
)
from obs.records import CallContent, LLMCall

T = datetime(2026, 11, 27, tzinfo=UTC)


def call(**content: object) -> LLMCall:
    return LLMCall(id="c", trace_id="t", ts=T, model="m", content=CallContent(**content))  # type: ignore[arg-type]


def case(case_id: int, **fields: object) -> EvalCase:
    return EvalCase(id=case_id, call_id=f"c{case_id}", status="accepted", created_at=T, updated_at=T,
                    dataset="d", **fields)  # type: ignore[arg-type]  # fmt: skip


def test_input_is_every_message_with_a_separate_system_prompt_first() -> None:
    chat = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    assert input_messages(call(system_prompt="S", messages=chat)) == tuple(chat)
    responses_api = call(system_prompt="Be brief.", messages="What is 2+2?")
    assert input_messages(responses_api) == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
    )
    assert input_messages(LLMCall(id="c", trace_id="t", ts=T, model="m")) == ()


def test_expected_output_starts_from_the_answer_or_its_tool_calls() -> None:
    assert prefill(call(output_text="Paris")) == "Paris"
    tool_calls = [{"function": {"name": "route", "arguments": "{}"}}]
    assert '"name": "route"' in prefill(call(tool_calls=tool_calls))
    assert prefill(call()) == ""


def test_labels_are_trimmed_and_kept_once_in_order() -> None:
    assert parse_labels(" billing, tone,,billing , ") == ("billing", "tone")
    assert parse_labels(["a", " b "]) == ("a", "b")
    assert parse_labels(None) == ()


def test_dedupe_keeps_the_first_reviewed_of_each_input() -> None:
    same = ({"role": "user", "content": "Hi"},)
    items = [
        DatasetCase(case(3), same),
        DatasetCase(case(1), same),
        DatasetCase(case(2), same, tools=[{"type": "function"}]),  # other tools: another input
        DatasetCase(case(4), ({"role": "user", "content": "Hi!"},)),
    ]
    assert duplicates(items) == [3]


def test_table_edits_find_changed_and_removed_cases_only() -> None:
    cases = [case(1, expected_output="a", labels=("x",)), case(2, expected_output="b"), case(3, notes="n")]
    rows = [
        {"id": 1, "expected_output": "a", "labels": "x", "notes": "", "remove": False},  # unchanged
        {"id": 2, "expected_output": "b2", "labels": "y, z", "notes": None, "remove": False},
        {"id": 3, "expected_output": "", "labels": "", "notes": "n", "remove": True},
        {"id": 99, "expected_output": "?", "labels": "", "notes": "", "remove": False},  # unknown: ignored
    ]
    changed, removed = table_edits(cases, rows)
    assert changed == [CaseEdit(2, "b2", ("y", "z"), None)]
    assert removed == [3]
