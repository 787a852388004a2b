"""The Triage and Datasets pages under Streamlit's AppTest: triage actions persist, undo takes them back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from obs.evals import Evals, Settings
from obs.store.store import Store
from tests.apptest import open_page, use_store
from tests.factories import seeded_calls, thumbs_down

TRIAGE, DATASETS = "pages/6_Triage.py", "pages/7_Datasets.py"
NOW = datetime.now(UTC)
CALLS = seeded_calls(NOW, n=120)


@pytest.fixture
def evals(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Evals]:
    store = Store(db_url)
    store.write_batch(CALLS, feedback_=thumbs_down(CALLS))
    evals = Evals(store)
    evals.sample(Settings(start=NOW - timedelta(days=7), end=NOW, per_rule=2, seed=1))
    use_store(db_url, monkeypatch)
    monkeypatch.setenv("OBS_REVIEWER", "ann")
    yield evals
    store.close()


def first_waiting(evals: Evals) -> int:
    return int(evals.queue()["id"].iloc[0])


def test_triage_shows_the_first_candidate_with_why_it_surfaced_and_the_progress(evals: Evals) -> None:
    case = evals.get(first_waiting(evals))
    assert case is not None
    at = open_page(TRIAGE)
    assert any("Why it surfaced" in m.value for m in at.markdown)
    assert any(f"Call `{case.call_id}`" in s.value for s in at.subheader)
    waiting = len(evals.queue())
    assert at.get("progress")[0].proto.text == f"0 of {waiting} reviewed · {waiting} waiting"
    assert at.text_area(key=f"case{case.id}_expected").value  # prefilled from the answer
    assert at.expander[0].proto.expanded is False  # the sample form stays shut while there is work


def test_the_reviewer_is_remembered_in_the_url(evals: Evals) -> None:
    at = open_page(TRIAGE)
    assert at.text_input(key="obs_reviewer").value == "ann" and at.query_params["reviewer"] in ("ann", ["ann"])
    at.text_input(key="obs_reviewer").input("bea").run()
    assert at.query_params["reviewer"] in ("bea", ["bea"])
    reloaded = open_page(TRIAGE, reviewer="bea")  # a reload (or a bookmark) of that URL
    assert reloaded.text_input(key="obs_reviewer").value == "bea"


def test_accept_into_a_new_dataset_with_an_edited_expected_output_then_undo(evals: Evals) -> None:
    case_id = first_waiting(evals)
    at = open_page(TRIAGE)
    at.selectbox(key=f"case{case_id}_ds").select("New dataset…").run()
    at.text_input(key=f"case{case_id}_new").input("refunds")
    at.text_area(key=f"case{case_id}_expected").input("The refund takes five days.")
    at.text_input(key=f"case{case_id}_labels").input("billing, tone")
    at.radio(key=f"case{case_id}_verdict").set_value("bad (thumbs-down)")
    at.button(key=f"case{case_id}_accept").click().run()
    assert not at.exception, at.exception
    case = evals.get(case_id)
    assert case is not None
    assert (case.status, case.dataset, case.expected_output, case.labels, case.reviewer) == (
        "accepted",
        "refunds",
        "The refund takes five days.",
        ("billing", "tone"),
        "ann",
    )
    assert any("Accepted call" in s.value for s in at.success)
    assert at.button(key=f"case{first_waiting(evals)}_accept")  # the next candidate is up
    at.button(key="undo").click().run()
    assert evals.get(case_id).status == "candidate"  # type: ignore[union-attr]
    assert evals.datasets().empty


def test_reject_with_a_reason_and_skip(evals: Evals) -> None:
    first = first_waiting(evals)
    at = open_page(TRIAGE)
    at.selectbox(key=f"case{first}_reason").select("answer was fine")
    at.button(key=f"case{first}_reject").click().run()
    rejected = evals.get(first)
    assert rejected is not None and (rejected.status, rejected.reject_reason, rejected.reviewer) == (
        "rejected",
        "answer was fine",
        "ann",
    )
    second = first_waiting(evals)
    at.button(key=f"case{second}_skip").click().run()
    assert evals.get(second).status == "candidate"  # type: ignore[union-attr]
    assert not at.get("button") or all(b.key != f"case{second}_skip" for b in at.button)


def test_the_call_views_add_to_eval_set_opens_that_call_in_triage(evals: Evals) -> None:
    call = next(c for c in CALLS if c.id not in set(evals.queue()["call_id"]))
    at = open_page(TRIAGE, call=call.id)
    assert any(f"Call `{call.id}`" in s.value for s in at.subheader)
    assert any("picked by hand" in m.value or "manual" in m.value for m in at.markdown)
    detail = open_page("pages/3_Calls.py", call=call.id)
    assert any(link.proto.page.endswith("Triage") or "Triage" in link.proto.page for link in detail.get("page_link"))


def test_datasets_page_lists_cases_offers_both_exports_and_removes_duplicates(evals: Evals) -> None:
    for call in CALLS[:3]:  # the factory's calls all ask the same thing: two are duplicates
        evals.accept(evals.open_call(call.id).id, dataset="refunds", reviewer="ann", expected_output="x")
    at = open_page(DATASETS, dataset="refunds")
    assert {m.label: m.value for m in at.metric}["Cases"] == "3"
    assert {m.label: m.value for m in at.metric}["Duplicate inputs"] == "2"
    assert len(at.get("download_button")) == 2
    remove = next(b for b in at.button if b.label.startswith("Remove 2 duplicates"))
    remove.click().run()
    assert [c.case.call_id for c in evals.dataset_cases("refunds")] == [CALLS[0].id]


def test_pages_with_nothing_to_show_say_what_to_do(evals: Evals) -> None:
    for case_id in evals.queue()["id"]:
        evals.reject(int(case_id), reviewer="ann", reason="other")
    triage = open_page(TRIAGE)
    assert "The queue is empty" in triage.success[0].value
    assert triage.expander[0].proto.expanded is True  # nothing to review: the sample form is open
    datasets = open_page(DATASETS)
    assert "No datasets yet" in datasets.info[0].value
