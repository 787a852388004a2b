"""Sampling, triage and datasets on a real store of each dialect."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from obs.evals import RULES, EvalError, Evals, Settings, read_jsonl
from obs.evals.export import exported
from obs.records import CallContent, Feedback, LLMCall
from obs.store.schema import feedback
from obs.store.store import Store
from tests.factories import make_call, seeded_calls, thumbs_down

NOW = datetime.now(UTC).replace(microsecond=0)
CALLS = seeded_calls(NOW, n=300)
FEEDBACK = thumbs_down(CALLS)
WEEK = {"start": NOW - timedelta(days=7), "end": NOW}


@pytest.fixture
def evals(store: Store) -> Iterator[Evals]:
    store.write_batch(CALLS, feedback_=FEEDBACK)
    yield Evals(store)


def expected_rules() -> dict[str, set[str]]:
    """Every call of the week that a rule should match, worked out here from the records themselves."""
    disliked = {f.call_id for f in FEEDBACK}
    latencies: dict[str | None, list[int]] = {}
    for c in CALLS:
        if c.latency_ms is not None:
            latencies.setdefault(c.feature, []).append(c.latency_ms)
    p95 = {f: float(np.percentile(v, 95)) for f, v in latencies.items() if len(v) >= 20}
    out: dict[str, set[str]] = {}
    for c in CALLS:
        rules = set()
        if c.id in disliked:
            rules.add("thumbs_down")
        if c.status == "error":
            rules.add("error")
        if c.is_refusal:
            rules.add("refusal")
        if c.latency_ms is not None and (c.latency_ms > 5000 or c.latency_ms > p95.get(c.feature, float("inf"))):
            rules.add("slow")
        if c.cost_usd is not None and c.cost_usd > 0.10:
            rules.add("expensive")
        if rules:
            out[c.id] = rules
    return out


def test_rules_pick_exactly_the_calls_they_should(evals: Evals) -> None:
    result = evals.sample(Settings(**WEEK, per_rule=10_000, seed=1))
    expected = expected_rules()
    assert {p.call_id: {r.rule for r in p.reasons} for p in result.picks} == expected
    assert set().union(*expected.values()) == set(RULES)  # the seeded week has calls for every rule
    stored = {c.call_id: {r.rule for r in c.reasons} for c in _cases(evals)}
    assert stored == expected


def test_a_sample_takes_at_most_n_per_rule_and_never_a_call_twice(evals: Evals) -> None:
    first = evals.sample(Settings(**WEEK, per_rule=5, seed=1))
    assert all(n <= 5 for n in first.taken.values()) and sum(first.taken.values()) == len(first.picks)
    second = evals.sample(Settings(**WEEK, per_rule=5, seed=1))
    ids = [p.call_id for p in (*first.picks, *second.picks)]
    assert len(ids) == len(set(ids))
    assert len(evals.queue()) == len(ids)


def test_reviewed_calls_and_calls_in_a_dataset_are_never_sampled_again(evals: Evals) -> None:
    evals.sample(Settings(**WEEK, per_rule=3, seed=1))
    queue = [int(i) for i in evals.queue()["id"]]
    evals.accept(queue[0], dataset="refunds", reviewer="ann", expected_output="fine")
    evals.reject(queue[1], reviewer="ann", reason="duplicate")
    again = evals.sample(Settings(**WEEK, per_rule=10_000, seed=2))
    reviewed = {evals.get(i).call_id for i in queue[:2]}  # type: ignore[union-attr]
    assert len(reviewed) == 2 and not reviewed & {p.call_id for p in again.picks}
    assert evals.sample(Settings(**WEEK, per_rule=10_000)).picks == ()


def test_free_filters_narrow_the_sample(evals: Evals) -> None:
    result = evals.sample(Settings(**WEEK, per_rule=10_000, feature="ticket_triage", model="gpt-4o", text="answer"))
    by_id = {c.id: c for c in CALLS}
    assert result.picks
    assert all((by_id[p.call_id].feature, by_id[p.call_id].model) == ("ticket_triage", "gpt-4o") for p in result.picks)
    wanted = {
        c
        for c in expected_rules()
        if (by_id[c].feature, by_id[c].model) == ("ticket_triage", "gpt-4o")
        and "answer" in (by_id[c].content.output_text or "").lower()  # type: ignore[union-attr]
    }
    assert {p.call_id for p in result.picks} == wanted


def test_app_feedback_feeds_the_thumbs_down_rule(evals: Evals) -> None:
    fine = next(c for c in CALLS if c.id not in expected_rules())
    evals.store.write_batch(feedback_=[Feedback(id="fb-new", ts=NOW, value="thumbs_down", call_id=fine.id)])
    result = evals.sample(Settings(**WEEK, per_rule=10_000, rules=("thumbs_down",)))
    assert fine.id in {p.call_id for p in result.picks}


def test_accept_persists_everything_the_reviewer_entered(evals: Evals) -> None:
    evals.sample(Settings(**WEEK, per_rule=2, seed=1))
    case_id = int(evals.queue()["id"].iloc[0])
    evals.accept(case_id, dataset=" refunds ", reviewer="ann", expected_output="Refunds take 5 days.",
                 labels="billing, tone, billing", notes="tone was off", verdict="thumbs_down", now=NOW)  # fmt: skip
    case = evals.get(case_id)
    assert case is not None
    assert (case.status, case.dataset, case.expected_output, case.labels, case.notes, case.reviewer) == (
        "accepted",
        "refunds",
        "Refunds take 5 days.",
        ("billing", "tone"),
        "tone was off",
        "ann",
    )
    assert case.reviewed_at == NOW
    assert int(evals.queue()["id"].iloc[0]) != case_id
    verdicts = _feedback_rows(evals, case.call_id)
    assert ("thumbs_down", "reviewer", "ann") in verdicts
    call = evals.store.get_call(case.call_id)
    assert call is not None and call.user_feedback == "thumbs_down"


def test_reject_persists_the_reason_and_leaves_the_queue(evals: Evals) -> None:
    evals.sample(Settings(**WEEK, per_rule=2, seed=1))
    case_id = int(evals.queue()["id"].iloc[0])
    evals.reject(case_id, reviewer="bob", reason="not representative", notes="a test account")
    case = evals.get(case_id)
    assert case is not None and (case.status, case.reject_reason, case.reviewer, case.dataset) == (
        "rejected",
        "not representative",
        "bob",
        None,
    )
    progress = evals.progress()
    assert (progress.reviewed, progress.waiting) == (1, progress.sampled - 1)
    with pytest.raises(EvalError, match="already rejected by bob"):
        evals.reject(case_id, reviewer="ann", reason="duplicate")


def test_undo_puts_the_case_and_the_feedback_back_as_they_were(evals: Evals) -> None:
    evals.sample(Settings(**WEEK, per_rule=2, seed=1))
    case_id = int(evals.queue()["id"].iloc[0])
    before = evals.get(case_id)
    assert before is not None
    feedback_before = evals.store.get_call(before.call_id).user_feedback  # type: ignore[union-attr]
    undo = evals.accept(case_id, dataset="refunds", reviewer="ann", expected_output="x", verdict="thumbs_up")
    evals.undo(undo)
    assert evals.get(case_id) == before
    assert not [row for row in _feedback_rows(evals, before.call_id) if row[1] == "reviewer"]
    assert evals.store.get_call(before.call_id).user_feedback == feedback_before  # type: ignore[union-attr]
    assert evals.datasets().empty
    evals.undo(evals.reject(case_id, reviewer="ann", reason="other"))
    assert evals.get(case_id) == before


def test_a_reviewed_call_can_join_another_dataset_but_not_the_same_one_twice(evals: Evals) -> None:
    evals.sample(Settings(**WEEK, per_rule=2, seed=1))
    case_id = int(evals.queue()["id"].iloc[0])
    evals.accept(case_id, dataset="refunds", reviewer="ann", expected_output="a")
    second = evals.accept(case_id, dataset="tone", reviewer="ann", expected_output="b")
    assert second.before is None and second.case_id != case_id
    assert sorted(evals.datasets()["dataset"]) == ["refunds", "tone"]
    with pytest.raises(EvalError, match="already in dataset 'tone'"):
        evals.accept(case_id, dataset="tone", reviewer="ann", expected_output="c")
    evals.undo(second)
    assert evals.get(second.case_id) is None and list(evals.datasets()["dataset"]) == ["refunds"]


def test_a_call_picked_by_hand_becomes_a_candidate_once(evals: Evals) -> None:
    call_id = CALLS[5].id
    case = evals.open_call(call_id)
    assert case.status == "candidate" and [r.rule for r in case.reasons] == ["manual"]
    assert evals.open_call(call_id) == case
    with pytest.raises(EvalError, match="no call with id 'nope'"):
        evals.open_call("nope")


def test_triage_needs_a_reviewer_and_a_dataset_name(evals: Evals) -> None:
    case = evals.open_call(CALLS[0].id)
    with pytest.raises(EvalError, match="a reviewer is needed"):
        evals.accept(case.id, dataset="x", reviewer=" ", expected_output="y")
    with pytest.raises(EvalError, match="a dataset is needed"):
        evals.accept(case.id, dataset="", reviewer="ann", expected_output="y")
    assert evals.get(case.id) == case


def test_dataset_cases_can_be_edited_removed_and_deduplicated(evals: Evals) -> None:
    other = LLMCall(id="distinct", trace_id="t-distinct", ts=NOW - timedelta(hours=1), model="gpt-4o",
                    content=CallContent(messages=[{"role": "user", "content": "Where is my invoice?"}],
                                        tools=[{"type": "function", "function": {"name": "find"}}],
                                        output_text="In Settings."))  # fmt: skip
    evals.store.write_batch([other])
    ids = [evals.open_call(c).id for c in (CALLS[0].id, CALLS[1].id, "distinct", CALLS[2].id)]
    for case_id in ids:
        evals.accept(case_id, dataset="d", reviewer="ann", expected_output="e")
    evals.update_case(ids[2], expected_output="In Settings > Billing.", labels=["billing"], notes="clearer")
    assert evals.remove_cases([ids[3]]) == 1
    # CALLS[0] and CALLS[1] were asked exactly the same thing: the first reviewed stays.
    assert evals.dedupe("d") == [ids[1]]
    cases = evals.dataset_cases("d")
    assert [c.case.id for c in cases] == [ids[0], ids[2]]
    edited = cases[1]
    assert (edited.case.expected_output, edited.case.labels, edited.case.notes) == (
        "In Settings > Billing.",
        ("billing",),
        "clearer",
    )
    assert edited.input == ({"role": "user", "content": "Where is my invoice?"},)
    assert edited.tools == [{"type": "function", "function": {"name": "find"}}]
    assert evals.dedupe("d") == []


def test_an_exported_jsonl_file_re_reads_into_the_same_cases(evals: Evals) -> None:
    source = make_call(NOW - timedelta(hours=2), call_id="src", text="Bonjour. ✓", model="gpt-4o", feature="fr",
                       prompt_version="v9", params={"temperature": 0.2})  # fmt: skip
    evals.store.write_batch([source])
    evals.sample(Settings(**WEEK, per_rule=2, seed=1))
    waiting = [int(i) for i in evals.queue()["id"]][:3]
    for case_id in [*waiting, evals.open_call("src").id]:
        evals.accept(case_id, dataset="fr", reviewer="ann", expected_output="Edited: «ok»\nline 2", labels="a, b")
    cases = evals.dataset_cases("fr")
    text = evals.export("fr", "jsonl")
    assert read_jsonl(text) == [exported(c) for c in cases]
    lines = {line.call_id: line for line in read_jsonl(text)}
    assert set(lines) == {c.case.call_id for c in cases}
    src = lines["src"]
    assert src.input == list(source.content.messages)  # type: ignore[union-attr]
    assert (src.ideal, src.labels, src.original_output, src.params) == (
        "Edited: «ok»\nline 2",
        ["a", "b"],
        "Bonjour. ✓",
        {"temperature": 0.2},
    )
    assert src.reasons == [{"rule": "manual", "detail": "added from the call view"}]


def test_csv_export_has_one_row_per_case(evals: Evals) -> None:
    evals.accept(evals.open_call(CALLS[3].id).id, dataset="c", reviewer="ann", expected_output='say "hi",\nthen')
    rows = list(csv.DictReader(io.StringIO(evals.export("c", "csv"))))
    assert [(r["call_id"], r["ideal"], r["last_user_message"]) for r in rows] == [
        (CALLS[3].id, 'say "hi",\nthen', "Hi")
    ]


def test_exporting_an_unknown_dataset_names_the_known_ones(evals: Evals) -> None:
    evals.accept(evals.open_call(CALLS[3].id).id, dataset="known", reviewer="ann", expected_output="x")
    with pytest.raises(EvalError, match=r"no dataset 'nope' \(datasets: known\)"):
        evals.export("nope", "jsonl")


def _cases(evals: Evals) -> list:  # type: ignore[type-arg]
    ids = [int(i) for i in evals.queue(limit=100_000)["id"]]
    return [evals.get(i) for i in ids]


def _feedback_rows(evals: Evals, call_id: str) -> list[tuple[str, str, str | None]]:
    with evals.store.engine.connect() as connection:
        rows = connection.execute(
            feedback.select().where(feedback.c.call_id == call_id).order_by(feedback.c.ts)
        ).mappings()
        return [(r["value"], r["source"], r["reviewer"]) for r in rows]
