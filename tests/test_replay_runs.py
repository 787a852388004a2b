"""Batch replay of an eval dataset: concurrency, one failing call, the summary, the stored run; keys stay out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from obs.demo.provider import DemoProvider
from obs.records import LLMCall
from obs.replay.call import Overrides, ReplayError, replay_call
from obs.replay.providers import Provider
from obs.replay.runs import Selection, open_run, run_batch
from obs.store import queries
from obs.store.schema import eval_cases, metadata
from obs.store.store import Store
from tests.replay_support import FRIENDLY, SYSTEM, failing_question, fails, messages, record_calls

QUESTIONS = [
    "How do I download past invoices as PDF?",
    "Can I pay by bank transfer on a yearly plan?",
    "Who receives the invoices each period?",
    "Do you accept credit cards?",
    "What is the weather in Paris tomorrow?",
]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProvider]:
    with DemoProvider(speed=0) as provider:
        yield provider


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _dataset(store: Store, demo: DemoProvider, name: str, n: int, failing: int) -> list[str]:
    """``n`` recorded calls (all answered), the ``failing``-th of which fails once replayed with FRIENDLY."""
    candidates = (f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})" for i in range(1000))
    questions = [q for q in candidates if not fails(q, SYSTEM) and not fails(q, FRIENDLY)][:n]
    questions[failing] = failing_question(SYSTEM, after=FRIENDLY)
    bodies = [{"model": "gpt-5-mini", "messages": messages(q), "temperature": 0} for q in questions]
    ids = record_calls(_url(store), demo.url, bodies)
    now = datetime.now(UTC)
    with store.control.begin() as connection:
        connection.execute(eval_cases.insert(), [
            {"dataset": name, "call_id": i, "status": "accepted", "created_at": now, "updated_at": now} for i in ids
        ])  # fmt: skip
    return ids


def test_batch_over_a_dataset_of_20_with_one_failing_call_completes_with_a_correct_summary(
    store: Store, demo: DemoProvider
) -> None:
    ids = _dataset(store, demo, "billing", 20, failing=7)
    originals = {i: store.get_call(i) for i in ids}
    assert all(c is not None and c.status == "ok" for c in originals.values())
    seen: list[tuple[int, int]] = []
    run = run_batch(
        store, Selection(dataset="billing"), Overrides(system_prompt=FRIENDLY), name="friendly v2", concurrency=4,
        provider=Provider("local-demo", demo.url, None, max_retries=0), progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert seen[-1] == (20, 20) and len(seen) == 20
    failed = [item for item in run.items if item.failed]
    assert len(failed) == 1 and failed[0].original.id == ids[7] and failed[0].error
    assert failed[0].replay is not None and failed[0].replay.status == "error"  # recorded like any failed call

    # The summary, checked against the stored calls themselves.
    pairs = [(originals[i], _replay_of(store, i)) for i in ids if i != ids[7]]
    changed = sum(1 for o, r in pairs if _text(o) != _text(r))
    s = run.summary
    assert (s.calls, s.replayed, s.errors) == (20, 19, 1)
    assert (s.changed, s.unchanged) == (changed, 19 - changed) and changed > 0
    assert s.refusals_before == sum(o.is_refusal for o, _ in pairs)
    assert s.refusals_after == sum(r.is_refusal for _, r in pairs)
    assert s.cost_before == pytest.approx(sum(float(o.cost_usd or 0) for o, _ in pairs))
    assert s.cost_after == pytest.approx(sum(float(r.cost_usd or 0) for _, r in pairs))
    assert s.latency_before_ms == pytest.approx(sum(o.latency_ms or 0 for o, _ in pairs) / 19)

    # Stored as a named run that opens later, call by call.
    stored = open_run(store, "friendly v2")
    assert stored.summary == s and stored.overrides == {"system_prompt": FRIENDLY}
    assert stored.selection == {"dataset": "billing", "limit": 100}
    assert len(stored.items) == 20 and stored.items["error"].notna().sum() == 1
    assert (stored.items["changed"] == 1).sum() == changed
    history = queries.run("replay_runs", db=store, limit=20)
    assert history["name"].tolist() == ["friendly v2"]


def _replay_of(store: Store, call_id: str) -> LLMCall:
    with store.engine.connect() as connection:
        replay_id = connection.execute(
            sa.text("SELECT id FROM llm_calls WHERE replay_of = :id"), {"id": call_id}
        ).scalar_one()
    call = store.get_call(replay_id)
    assert call is not None
    return call


def _text(call: LLMCall) -> str | None:
    return call.content.output_text if call.content else None


def test_a_call_without_content_is_an_error_item_and_the_run_goes_on(store: Store, demo: DemoProvider) -> None:
    ids = _dataset(store, demo, "small", 3, failing=0)
    ts = datetime.now(UTC)
    store.write_batch([LLMCall(id="meta", trace_id="t", ts=ts, model="gpt-5-mini", content_state="metadata_only")])
    with store.control.begin() as connection:
        connection.execute(eval_cases.insert().values(dataset="small", call_id="meta", created_at=ts, updated_at=ts))
    run = run_batch(store, Selection(dataset="small"), provider=Provider("d", demo.url, None, max_retries=0))
    errors = {item.original.id: item.error for item in run.items if item.failed}
    assert set(errors) == {"meta"} and "metadata-only" in (errors["meta"] or "")
    assert (run.summary.unchanged, run.summary.errors) == (3, 1)  # an exact replay reproduces the answers
    assert {item.original.id for item in run.items} == {*ids, "meta"}


def test_an_empty_selection_or_a_taken_name_is_refused_before_anything_is_sent(
    store: Store, demo: DemoProvider
) -> None:
    local = Provider("d", demo.url, None, max_retries=0)
    with pytest.raises(ReplayError, match="no calls match dataset nope"):
        run_batch(store, Selection(dataset="nope"), provider=local)
    record_calls(_url(store), demo.url, [{"model": "gpt-5-mini", "messages": messages(), "temperature": 0}])
    run_batch(store, Selection(feature="help_answer"), name="first", provider=local)
    with pytest.raises(ReplayError, match="named 'first' exists already"):
        run_batch(store, Selection(feature="help_answer"), name="first", provider=local)
    assert queries.run("replay_runs", db=store, limit=20)["name"].tolist() == ["first"]


def test_api_keys_never_reach_the_database(store: Store, demo: DemoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-obs-test-5b1f0e9c2d7a4e8f9a6b3c1d0e2f4a5b"
    monkeypatch.setenv("OBS_TEST_REPLAY_KEY", secret)
    keyed = Provider("keyed", demo.url, "OBS_TEST_REPLAY_KEY", max_retries=0)
    ids = _dataset(store, demo, "keys", 4, failing=2)
    replay_call(store, ids[0], Overrides(model="gpt-4.1"), provider=keyed)
    run_batch(store, Selection(dataset="keys"), Overrides(system_prompt=FRIENDLY), name="keys", provider=keyed)
    scanned = 0
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                scanned += 1
                assert secret not in repr(tuple(row)), table.name
                assert "OBS_TEST_REPLAY_KEY" not in repr(tuple(row)), table.name
    assert scanned > 20
