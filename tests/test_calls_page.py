"""The Calls page's list under AppTest: a table people read, every filter in the URL, a pager that keeps them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from obs.store.store import Store
from obs.ui.calls import question_of
from obs.ui.tables import duration, first_words, money
from tests.apptest import open_page, use_store
from tests.factories import seeded_calls

PAGE = "pages/3_Calls.py"
CALLS = seeded_calls(datetime.now(UTC), n=150)


@pytest.fixture
def seeded(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    store = Store(sqlite_url)
    store.write_batch(CALLS, [], [])
    store.close()
    use_store(sqlite_url, monkeypatch)
    yield sqlite_url


def run(**params: str) -> AppTest:
    return open_page(PAGE, **params)


def test_the_table_is_for_people(seeded: str) -> None:
    table = run(window="30d").dataframe[0].value
    assert list(table.columns) == ["ts", "short_id", "feature", "model", "prompt_version", "user_id", "status",
                                   "refusal", "feedback", "cost", "latency", "question", "answer"]  # fmt: skip
    assert set(table["refusal"]) <= {"✓", ""} and "✓" in set(table["refusal"])
    assert not table.isna().any().any() and "None" not in set(table.astype(str).stack())
    assert all(c == "unpriced" or c.startswith("$") for c in table["cost"])
    assert all(v.endswith((" ms", " s")) or v == "—" for v in table["latency"])
    assert set(table["question"]) == {"Hi"}  # the factories' question


def test_filters_live_in_the_url_and_the_pager_keeps_them(seeded: str) -> None:
    at = run(window="30d", status="error")
    errors = sum(c.status == "error" for c in CALLS)
    assert set(at.dataframe[0].value["status"]) == {"error"} and len(at.dataframe[0].value) == min(errors, 50)
    at.selectbox(key="calls_status").set_value("All").run()
    assert "status" not in at.query_params and len(at.dataframe[0].value) == 50
    at.button(key="calls_next").click().run()
    assert at.query_params["page"] in ("2", ["2"])
    second = set(at.dataframe[0].value["ts"])
    first = set(run(window="30d").dataframe[0].value["ts"])
    assert second and not second & first
    at.text_input(key="calls_search").input("Echo").run()  # a new search: back to its first page
    assert at.query_params["q"] in ("Echo", ["Echo"]) and "page" not in at.query_params


def test_the_formatting_helpers() -> None:
    assert (money(None), money(Decimal("0.0012")), money(0.35), money(12.4), money(0.00004)) == (
        "unpriced", "$0.0012", "$0.3500", "$12.40", "$0.000040")  # fmt: skip
    assert (duration(None), duration(850), duration(12_345)) == ("—", "850 ms", "12.3 s")
    assert question_of('[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]') == "a"
    assert question_of([{"role": "user", "content": [{"type": "text", "text": "in blocks"}]}]) == "in blocks"
    assert first_words(None) == "—" and first_words("one  two\nthree") == "one two three"
    assert first_words("word " * 40, 20).endswith(" …") and len(first_words("word " * 40, 20)) <= 21


def test_back_to_the_list_returns_to_the_same_filtered_page(seeded: str) -> None:
    errors = [c for c in CALLS if c.status == "error" and c.prompt_version == "v1"]
    at = run(window="30d", status="error", prompt_version="v1", call=errors[0].id)
    assert {m.label for m in at.metric} >= {"Prompt tokens", "Latency"}  # the call is open
    at.button[0].click().run()  # ← Back to the list
    assert "call" not in at.query_params
    assert at.query_params["status"] in ("error", ["error"]) and at.query_params["prompt_version"] in ("v1", ["v1"])
    table = at.dataframe[0].value
    assert set(table["status"]) == {"error"} and set(table["prompt_version"]) == {"v1"}
    assert len(table) == min(len(errors), 50)


def test_tools_offered_only_when_the_call_offered_some(seeded: str) -> None:
    from dataclasses import replace

    from tests.factories import make_call

    plain = CALLS[0]
    base = make_call(plain.ts, call_id="with-tools")
    assert base.content is not None
    tools = [{"type": "function", "function": {"name": "route_ticket", "parameters": {"type": "object"}}}]
    store = Store(seeded)
    store.write_batch([replace(base, content=replace(base.content, tools=tools))], [], [])
    store.close()
    offered = run(window="30d", call="with-tools")
    assert "Tools offered" in [e.label for e in offered.expander]
    assert "Tools offered" not in [e.label for e in run(window="30d", call=plain.id).expander]


def test_tool_calls_read_as_code_with_their_json_on_demand(seeded: str) -> None:
    from dataclasses import replace

    from tests.factories import make_call

    base = make_call(CALLS[0].ts, call_id="routed")
    assert base.content is not None
    arguments = '{"team": "billing", "priority": "high"}'
    asked = [{"id": "c1", "type": "function", "function": {"name": "route_ticket", "arguments": arguments}}]
    store = Store(seeded)
    store.write_batch([replace(base, content=replace(base.content, tool_calls=asked))], [], [])
    store.close()
    at = run(window="30d", call="routed")
    assert 'route_ticket(team="billing", priority="high")' in [c.value for c in at.code]
    assert "Tool calls as JSON" in [e.label for e in at.expander]


def test_tool_signatures_of_each_api_shape() -> None:
    from obs.ui.views import tool_signature

    chat = {"type": "function", "function": {"name": "lookup", "arguments": '{"q": "refund", "n": 2}'}}
    responses = {"type": "function_call", "name": "lookup", "arguments": '{"q": "ünï"}'}
    anthropic = {"type": "tool_use", "id": "t", "name": "lookup", "input": {"ids": [1, 2]}}
    assert tool_signature(chat) == 'lookup(q="refund", n=2)'
    assert tool_signature(responses) == 'lookup(q="ünï")'
    assert tool_signature(anthropic) == "lookup(ids=[1, 2])"
    assert tool_signature({"type": "function", "function": {"name": "ping", "arguments": ""}}) == "ping()"
    assert tool_signature({"function": {"name": "cut", "arguments": '{"q": "unfinish'}}) == 'cut({"q": "unfinish)'
