"""Every dashboard page renders under Streamlit's AppTest on a seeded store of each dialect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from obs.store.store import Store
from tests.factories import make_span, seeded_calls, thumbs_down

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
NOW = datetime.now(UTC)
CALLS = seeded_calls(NOW, n=150)


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    store = Store(db_url)
    spans = [make_span(CALLS[0].trace_id, CALLS[0].ts - timedelta(seconds=1), name="retrieval", kind="retrieval",
                       output=[{"doc": "billing", "text": "Invoices are emailed monthly."}])]  # fmt: skip
    store.write_batch(CALLS, spans, thumbs_down(CALLS))
    store.close()
    monkeypatch.setenv("OBS_DATABASE_URL", db_url)
    monkeypatch.delenv("OBS_DASHBOARD_PASSWORD", raising=False)
    yield db_url


def run(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", [None, *PAGES], ids=["app.py", *PAGES])
def test_every_page_renders_without_exception(seeded: str, page: str | None) -> None:
    at = run(page, window="30d")
    assert at.title[0].value and at.sidebar.selectbox  # the page and its shared filters


def test_overview_tiles_count_the_window_and_charts_render(seeded: str) -> None:
    at = run(window="30d")
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Calls"] == f"{len(CALLS):,}"
    assert set(tiles) >= {"Spend", "p95 latency", "Error rate", "Refusal rate", "Thumbs-down rate", "Unpriced calls"}
    assert len(at.get("vega_lite_chart")) == 4


def test_filters_come_from_the_url_and_narrow_every_number(seeded: str) -> None:
    feature = "ticket_triage"
    at = run(window="30d", feature=feature)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Calls"] == f"{sum(1 for c in CALLS if c.feature == feature):,}"
    assert at.sidebar.selectbox[1].value == feature


def test_costs_and_latency_pages_show_their_tables(seeded: str) -> None:
    costs = run("pages/1_Costs.py", window="30d")
    assert len(costs.dataframe) == 3 and len(costs.get("download_button")) == 4
    latency = run("pages/2_Latency.py", window="30d")
    assert len(latency.dataframe) == 3


def test_calls_page_lists_one_page_and_opens_the_exact_call(seeded: str) -> None:
    listing = run("pages/3_Calls.py", window="30d")
    assert len(listing.dataframe[0].value) == 50  # a page, never the whole table
    call = CALLS[0]
    detail = run("pages/3_Calls.py", window="30d", call=call.id)
    texts = " ".join(str(t.value) for t in detail.get("text"))
    assert "You triage tickets." in texts and (call.content.output_text or "") in texts  # type: ignore[union-attr]
    labels = {m.label: m.value for m in detail.metric}
    assert labels["Prompt tokens"] == f"{call.prompt_tokens:,}"
    assert "Tools offered" not in [e.label for e in detail.expander]  # the call offered none


def test_trace_page_shows_the_tree_and_the_retrieved_chunks(seeded: str) -> None:
    at = run("pages/4_Trace.py", trace=CALLS[0].trace_id)
    table = at.dataframe[0].value
    assert {"trace", "llm", "retrieval"} & set(table["kind"]) >= {"llm", "retrieval"}
    assert any("Invoices are emailed monthly." in str(m.value) for m in at.markdown)


def test_unknown_call_and_trace_ids_say_so(seeded: str) -> None:
    assert "No call with id" in run("pages/3_Calls.py", call="nope").error[0].value
    assert "No trace with id" in run("pages/4_Trace.py", trace="nope").error[0].value


def test_wrong_password_shows_no_data_and_the_right_one_does(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_DASHBOARD_PASSWORD", "s3cret")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.metric and at.text_input[0].label == "Password"
    at.text_input[0].input("guess").run()
    assert not at.metric and "Wrong password" in at.error[0].value
    at.text_input[0].input("s3cret").run()
    assert at.metric and {m.label for m in at.metric} >= {"Calls"}


def test_a_bad_database_url_is_one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_DATABASE_URL", "mysql://u@h/db")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and "not mysql" in at.error[0].value


def test_the_navigation_names_every_page_and_the_home_page_overview(seeded: str) -> None:
    from obs.ui.state import NAVIGATION

    at = run("pages/1_Costs.py", window="30d", feature="ticket_triage")
    links = [e for e in at.sidebar.get("page_link")]
    assert [link.proto.label for link in links] == [name for _, name in NAVIGATION]
    # The filters go along to every page.
    assert all(link.proto.query_string == "window=30d&feature=ticket_triage" for link in links)
    scripts = {"app.py", *(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))}
    assert {path for path, _ in NAVIGATION} == scripts  # no page left out of the navigation
