"""Comparing a call with its replay, and summarizing a run: pure code over records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from obs.replay.compare import RunItem, compare, summarize, tool_signature, word_diff
from obs.replay.report import comparison_lines, diff_text, summary_lines
from tests.factories import make_call

T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("You can download invoices from Settings.", "You can download past invoices from Billing."),
        ("I'm sorry, but I can't help with that request.", "Happy to help! Open Settings, then Billing."),
        ("line one\nline two", "line one\n- line two\n- line three"),
        ("", "Only the replay answered."),
        ("Only the original answered.", ""),
        ("  leading and trailing  ", "leading and trailing"),
    ],
)
def test_word_diff_gives_back_both_answers_exactly(before: str, after: str) -> None:
    pieces = word_diff(before, after)
    assert "".join(p.text for p in pieces if p.op != "insert") == before
    assert "".join(p.text for p in pieces if p.op != "delete") == after


def test_word_diff_marks_changed_words_and_keeps_a_rewrite_in_one_piece() -> None:
    pieces = word_diff("Open Settings, then Billing.", "Open Settings, then Invoices.")
    assert [(p.op, p.text) for p in pieces] == [
        ("equal", "Open Settings, then "), ("delete", "Billing."), ("insert", "Invoices."),
    ]  # fmt: skip
    rewrite = word_diff("I am sorry, but no.", "Happy to help with that today.")
    assert [p.op for p in rewrite] == ["delete", "insert"]  # not interleaved word by word
    assert [(p.op, p.text) for p in word_diff("same answer", "same answer")] == [("equal", "same answer")]


def test_tool_calls_are_compared_by_name_and_arguments_not_ids_or_key_order() -> None:
    a = [{"id": "call_1", "type": "function", "function": {"name": "route", "arguments": '{"team": "x", "p": 1}'}}]
    b = [{"id": "call_9", "type": "function", "function": {"name": "route", "arguments": '{"p": 1, "team": "x"}'}}]
    assert tool_signature(a) == tool_signature(b) == (("route", '{"p": 1, "team": "x"}'),)
    before = make_call(T0, text="")
    assert compare(before, before).tool_changes == ()


def test_comparison_reports_deltas_and_none_when_a_side_is_unpriced() -> None:
    original = make_call(T0, text="Old answer.", cost_usd=Decimal("0.001"), latency_ms=900)
    replay = make_call(T0, text="New answer.", cost_usd=Decimal("0.0015"), latency_ms=600, prompt_tokens=130)
    c = compare(original, replay)
    assert c.changed and c.delta("cost_usd") == pytest.approx(0.0005) and c.delta("latency_ms") == -300
    assert c.delta("prompt_tokens") == 10
    assert compare(original, make_call(T0, text="Old answer.")).delta("cost_usd") is None
    text = "\n".join(comparison_lines(c))
    assert "[-Old-]{+New+} answer." in text and "+$0.000500" in text and "-300 ms" in text
    assert diff_text(c.pieces) == "[-Old-]{+New+} answer."


def test_run_summary_counts_changes_refusals_errors_and_priced_pairs() -> None:
    def pair(before: str, after: str | None, **replay: object) -> RunItem:
        original = make_call(T0, text=before, cost_usd=Decimal("0.01"), latency_ms=1000)
        if after is None:
            return RunItem(original, None, "no content")
        values: dict[str, object] = {"cost_usd": Decimal("0.02"), "latency_ms": 500}
        values.update(replay)
        return RunItem(original, make_call(T0, text=after, **values))  # type: ignore[arg-type]

    items = [
        pair("A", "A"),
        pair("A", "B", is_refusal=True),
        pair("A", "C", cost_usd=None),  # unpriced replay: left out of the cost totals
        pair("A", "A", status="error", error="RateLimitError (429)"),
        pair("A", None),
    ]
    s = summarize(items)
    assert (s.calls, s.replayed, s.errors, s.changed, s.unchanged) == (5, 3, 2, 2, 1)
    assert (s.refusals_before, s.refusals_after) == (0, 1)
    assert (s.cost_before, s.cost_after, s.cost_pairs) == (pytest.approx(0.02), pytest.approx(0.04), 2)
    assert (s.latency_before_ms, s.latency_after_ms, s.latency_delta_ms) == (1000, 500, -500)
    assert "answers    2 changed, 1 unchanged" in summary_lines(s)
