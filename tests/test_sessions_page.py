"""The Sessions page under AppTest, on a store of each dialect: conversations listed with their numbers and first
question, sorted and narrowed from the URL, and one opened as a chat, turn by turn, feedback where it was given."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from obs.records import CallContent, Feedback, LLMCall
from obs.store.store import Store
from tests.apptest import open_page, use_store
from tests.factories import make_call

PAGE = "pages/3_Sessions.py"
NOW = datetime.now(UTC).replace(microsecond=0)


def _turn(session: str, when: datetime, question: str, answer: str, **fields: object) -> list[LLMCall]:
    """One turn as the demo makes it: a rewrite call, then the answer, in one trace."""
    rewrite = make_call(when, session_id=session, feature="query_rewrite", cost_usd=Decimal("0.0001"), **fields)
    answer_call = make_call(when + timedelta(seconds=2), trace_id=rewrite.trace_id, session_id=session,
                            feature="help_answer", model="gpt-4.1", cost_usd=Decimal("0.002"), **fields)  # fmt: skip
    history = [{"role": "system", "content": "You answer from the help center."},
               {"role": "user", "content": question}]  # fmt: skip
    content = CallContent(system_prompt=history[0]["content"], messages=history, output_text=answer,
                          response={"choices": [{"message": {"role": "assistant", "content": answer}}]})  # fmt: skip
    return [rewrite, replace(answer_call, content=content)]


CHAT = [
    *_turn("s-ana", NOW - timedelta(hours=3), "How do I reset my password?", "Open Settings, then Security.",
           user_id="ana"),
    *_turn("s-ana", NOW - timedelta(hours=2), "And if I lost my phone?", "Use a recovery code.", user_id="ana"),
    *_turn("s-ana", NOW - timedelta(hours=1), "Where are the codes?", "Under Security, Recovery codes.",
           user_id="ana"),
]  # fmt: skip
OTHER = _turn("s-bob", NOW - timedelta(minutes=30), "Can I get a refund?", "Yes, within 30 days.", user_id="bob",
              status="error", error="RateLimitError: slow down", error_type="RateLimitError")  # fmt: skip
UNHAPPY = Feedback(id="fb-1", ts=NOW - timedelta(minutes=50), value="thumbs_down", call_id=CHAT[3].id)


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    store = Store(db_url)
    no_session = make_call(NOW - timedelta(hours=4), user_id="carol")
    store.write_batch([*CHAT, *OTHER, no_session], [], [UNHAPPY])
    store.close()
    use_store(db_url, monkeypatch)
    yield db_url


def run(**params: str) -> AppTest:
    return open_page(PAGE, **params)


def test_sessions_are_listed_with_their_numbers_and_first_question(seeded: str) -> None:
    table = run(window="24h").dataframe[0].value
    assert list(table["session_id"]) == ["s-bob", "s-ana"]  # the most recently active first
    ana = table.set_index("session_id").loc["s-ana"]
    assert (ana["turns"], ana["calls"], ana["users"], ana["user_id"]) == (3, 6, 1, "ana")
    assert float(ana["cost_usd"]) == pytest.approx(3 * 0.0021)
    assert (ana["tokens"], ana["errors"], ana["thumbs_down"]) == (6 * 150, 0, 1)
    assert ana["question"] == "Hi"  # the first call of the session is the rewrite, asked "Hi" (factories)
    bob = table.set_index("session_id").loc["s-bob"]
    assert bob["errors"] == 2


def test_the_list_is_sorted_and_narrowed_from_the_url(seeded: str) -> None:
    by_cost = run(window="24h", sort="Cost").dataframe[0].value
    assert list(by_cost["session_id"]) == ["s-ana", "s-bob"]
    assert list(run(window="24h", errors="1").dataframe[0].value["session_id"]) == ["s-bob"]
    assert list(run(window="24h", unhappy="1").dataframe[0].value["session_id"]) == ["s-ana"]
    assert list(run(window="24h", q="BOB").dataframe[0].value["session_id"]) == ["s-bob"]


def test_a_session_opens_as_a_chat_turn_by_turn(seeded: str) -> None:
    at = run(window="24h", session="s-ana")
    said = [m.markdown[0].value for m in at.chat_message]
    assert said == [
        "**1.** How do I reset my password?", "Open Settings, then Security.",
        "**2.** And if I lost my phone?", "Use a recovery code.",
        "**3.** Where are the codes?", "Under Security, Recovery codes.",
    ]  # fmt: skip
    facts = [c.value for c in at.caption]
    assert any("model gpt-4.1" in f and "$0.0021 (2 calls)" in f and "thumbs-down" not in f for f in facts)
    assert sum("thumbs-down" in f for f in facts) == 1  # on the second turn, where it was given
    assert "thumbs-down" in facts[1]
    assert "3 turns · 6 calls · user **ana**" in at.markdown[0].value


def test_an_unknown_session_says_so(seeded: str) -> None:
    assert "No calls in session 'nope'" in run(session="nope").error[0].value
