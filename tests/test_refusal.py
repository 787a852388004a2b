"""The refusal flag: provider field, content filter, phrase patterns (configurable)."""

from __future__ import annotations

import pytest

from obs.capture.refusal import is_refusal


@pytest.mark.parametrize(
    "text",
    [
        "I can't help with that.",
        "Sorry — I don\u2019t know the answer.",
        "I'M SORRY, BUT I CANNOT do this",
        "i do not know",
    ],
)
def test_refusal_phrases_are_found_with_either_apostrophe(text: str) -> None:
    assert is_refusal(text)


def test_ordinary_answers_are_not_refusals() -> None:
    assert not is_refusal("Restart the printer and check the toner.")
    assert not is_refusal(None)
    assert not is_refusal("")


def test_provider_refusal_field_and_content_filter_count() -> None:
    assert is_refusal(None, refusal="I can't comply.")
    assert is_refusal("partial", finish_reason="content_filter")


def test_patterns_are_configurable() -> None:
    assert is_refusal("Das kann ich nicht beantworten", patterns=["kann ich nicht"])
    assert not is_refusal("I don't know", patterns=["kann ich nicht"])
