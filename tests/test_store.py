"""The store: batches in one transaction, idempotent writes, a call with its content, a whole trace."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from obs.records import CallContent, Feedback, LLMCall
from obs.store import rows
from obs.store.store import Store
from tests.factories import make_call, make_span

T0 = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


def test_call_round_trips_with_its_content(store: Store) -> None:
    call = make_call(
        T0,
        call_id="c1",
        feature="ticket_triage",
        user_id="u42",
        tags=("beta", "eu"),
        metadata={"ticket": 17},
        params={"temperature": 0},
        cost_usd=Decimal("0.0006205"),
        cached_tokens=1000,
        reasoning_tokens=64,
        stream=True,
    )
    assert store.write_batch([call]).calls == 1
    stored = store.get_call("c1")
    assert stored == call
    assert stored.content == call.content
    assert stored.ts.tzinfo is not None and stored.ts.utcoffset() == timedelta(0)
    assert stored.cost_usd == Decimal("0.0006205")


def test_timestamps_in_other_zones_are_stored_and_returned_as_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    store.write_batch([make_call(datetime(2026, 11, 20, 18, 30, tzinfo=tokyo), call_id="c1")])
    stored = store.get_call("c1")
    assert stored is not None
    assert stored.ts == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert stored.ts.tzinfo == UTC


def test_naive_timestamps_are_refused_rather_than_guessed(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.write_batch([make_call(datetime(2026, 11, 20, 9, 30), call_id="c1")])
    assert store.get_call("c1") is None


def test_writing_the_same_batch_twice_stores_each_record_once(store: Store) -> None:
    calls = [make_call(T0 + timedelta(seconds=i), call_id=f"c{i}", trace_id="t") for i in range(5)]
    spans = [make_span("t", T0, name="retrieval")]
    fb = [Feedback(id="f1", ts=T0, value="thumbs_up", call_id="c1")]
    first = store.write_batch(calls, spans, fb)
    again = store.write_batch(calls, spans, fb)
    assert (first.calls, first.spans, first.feedback, first.skipped) == (5, 1, 1, 0)
    assert (again.calls, again.spans, again.feedback, again.skipped) == (0, 0, 0, 7)
    assert store.stats().calls == 5


def test_rows_formatted_ahead_for_copy_store_what_the_copy_itself_would(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the writer formats COPY rows ahead of the transaction (Codecs.finish); a psycopg without that
    formatter leaves it to the COPY. Both store the same, also through the path for ids already stored."""

    content = CallContent(
        system_prompt="line\nbreak\ttab \\ back",
        messages=[{"role": "user", "content": "é \u2028 \r\n\t"}],
        output_text="a\\nb",
    )

    def calls(prefix: str) -> list[LLMCall]:
        return [
            replace(
                make_call(T0 + timedelta(seconds=i), call_id=f"{prefix}{i}", metadata={"tab": "a\tb", "nl": "x\ny\\z"}),
                content=content,
            )
            for i in range(3)
        ]

    ahead = calls("a")
    store.write_batch(ahead[:1])
    assert store.write_batch(ahead).calls == 2  # one known: the temp-table path
    monkeypatch.setattr(rows, "format_row_text", None)
    itself = calls("b")
    store.write_batch(itself[:1])
    assert store.write_batch(itself).calls == 2
    for a, b in zip(ahead, itself, strict=True):
        stored_a, stored_b = store.get_call(a.id), store.get_call(b.id)
        assert stored_a == a and stored_b == b
        assert stored_a.content == a.content and stored_b.content == b.content


def test_a_failing_batch_writes_nothing(store: Store) -> None:
    good = make_call(T0, call_id="good")
    bad = make_call(datetime(2026, 1, 1), call_id="bad")  # naive: refused
    with pytest.raises(ValueError):
        store.write_batch([good, bad])
    assert store.get_call("good") is None


def test_call_without_content_reads_back_with_content_none(store: Store) -> None:
    store.write_batch([replace(make_call(T0, call_id="meta", content_state="metadata_only"), content=None)])
    stored = store.get_call("meta")
    assert stored is not None and stored.content is None and stored.content_state == "metadata_only"


def test_trace_holds_its_calls_and_spans_in_time_order(store: Store) -> None:
    root = make_span("t1", T0, name="answer_question", kind="trace")
    retrieval = make_span("t1", T0 + timedelta(milliseconds=5), name="retrieval", parent_id=root.id)
    later = make_call(T0 + timedelta(seconds=2), call_id="answer", trace_id="t1", parent_id=root.id)
    earlier = make_call(T0 + timedelta(seconds=1), call_id="rewrite", trace_id="t1", parent_id=root.id)
    other = make_call(T0, call_id="other", trace_id="t2")
    store.write_batch([later, earlier, other], [retrieval, root])
    trace = store.get_trace("t1")
    assert trace is not None
    assert [c.id for c in trace.calls] == ["rewrite", "answer"]
    assert [s.name for s in trace.spans] == ["answer_question", "retrieval"]
    assert trace.spans[1].parent_id == root.id
    assert store.get_trace("missing") is None


def test_feedback_sets_the_seed_user_feedback_column_to_the_latest_value(store: Store) -> None:
    store.write_batch([make_call(T0, call_id="c1")])
    store.write_batch(feedback_=[Feedback(id="f1", ts=T0, value="thumbs_up", call_id="c1")])
    store.write_batch(feedback_=[Feedback(id="f2", ts=T0 + timedelta(minutes=1), value="thumbs_down", call_id="c1")])
    stored = store.get_call("c1")
    assert stored is not None and stored.user_feedback == "thumbs_down"


def test_feedback_that_arrives_before_its_call_is_applied_when_the_call_lands(store: Store) -> None:
    store.write_batch(feedback_=[Feedback(id="f1", ts=T0, value="thumbs_down", call_id="late")])
    store.write_batch([make_call(T0, call_id="late")])
    stored = store.get_call("late")
    assert stored is not None and stored.user_feedback == "thumbs_down"


@pytest.mark.parametrize("copy_formatter", [True, False])
def test_nul_characters_in_content_do_not_fail_the_batch(
    store: Store, copy_formatter: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not copy_formatter:  # PostgreSQL: rows the COPY formats itself are cleaned of NUL too
        monkeypatch.setattr(rows, "format_row_text", None)
    call = make_call(T0, call_id="nul", text="bad\x00byte", error="x\x00y")
    span = make_span("t", T0, name="re\x00trieval")
    note = Feedback(id="f_nul", ts=T0, value="thumbs_down", call_id="nul", comment="wro\x00ng")
    result = store.write_batch([call], [span], [note])
    assert (result.calls, result.spans, result.feedback) == (1, 1, 1)
    stored = store.get_call("nul")
    assert stored is not None and stored.content is not None
    assert stored.content.output_text is not None and "bad" in stored.content.output_text
    assert stored.error is not None and stored.error.startswith("x")
    trace = store.get_trace("t")
    assert trace is not None and trace.spans[0].name.startswith("re")


def test_content_with_values_json_cannot_encode_is_stored_as_text(store: Store) -> None:
    odd = CallContent(messages=[{"role": "user", "content": "hi", "sent_at": T0}])
    store.write_batch([replace(make_call(T0, call_id="odd"), content=odd)])
    stored = store.get_call("odd")
    assert stored is not None and stored.content is not None
    assert stored.content.messages[0]["sent_at"] == T0.isoformat()


def test_large_batches_are_written_in_chunks(store: Store) -> None:
    calls = [make_call(T0 + timedelta(milliseconds=i), call_id=f"c{i:05d}") for i in range(2_500)]
    assert store.write_batch(calls).calls == 2_500
    assert store.stats().calls == 2_500


def test_sqlite_store_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(sqlite_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def _write_from_process(url: str, worker: int, n: int) -> None:
    store = Store(url)
    for i in range(n):
        store.write_batch([make_call(T0 + timedelta(seconds=i), call_id=f"w{worker}-{i}")])
    store.close()


def test_several_processes_share_one_sqlite_file(tmp_path: Path, open_store: Callable[..., Store]) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_from_process, args=(url, w, 60)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    assert open_store(url).stats().calls == 240
