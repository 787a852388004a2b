"""Feedback comments are user text: stored under the privacy policy of the call or trace they are about, in the
store and in the spool (database down), on both dialects. The rule that picks the policy, as pure code."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import obs
import obs.sdk
from obs import config
from obs.privacy.policy import Policies, Policy, sampled
from obs.recorder.privacy import PrivacyStep
from obs.recorder.queue import Recorder
from obs.recorder.spool import loads
from obs.records import Feedback, new_span_id, new_trace_id
from obs.store.store import Store
from tests.factories import make_call, make_span
from tests.fake_openai import FakeOpenAI, clients
from tests.tcp_proxy import Proxy

#: Planted PII, one of each kind the issue names: none may be stored under ``redact``.
PLANTED = {
    "EMAIL_ADDRESS": "maria.garcia@example.com",
    "PHONE_NUMBER": "+1 415-555-0132",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "IBAN_CODE": "DE89 3704 0044 0532 0130 00",
    "IP_ADDRESS": "192.168.17.20",
}
COMMENT = (
    f"The printer answer was wrong. Write to {PLANTED['EMAIL_ADDRESS']} or ring {PLANTED['PHONE_NUMBER']}; "
    f"refund card {PLANTED['CREDIT_CARD']} or IBAN {PLANTED['IBAN_CODE']}; my router is {PLANTED['IP_ADDRESS']}."
)
#: Words of the comment that are not PII: redaction keeps them.
KEPT_WORDS = ("printer answer was wrong", "refund card", "my router is")
Outage = tuple[str, str, Callable[[], None]]


@pytest.fixture(autouse=True)
def _reset_recorder() -> Iterator[None]:
    yield
    obs.configure(None)
    # The database thread finishes the jobs queued before the stop (a spool replay, a feature lookup) after
    # shutdown returns: let it, so that it cannot write into the next test's freshly reset database.
    for thread in threading.enumerate():
        if thread.name in ("obs-db", "obs-writer"):
            thread.join(30)


def _policies(mode: str) -> Policies:
    """Calls of ``support`` under ``mode``, everything else stored in full (so only the call's feature decides)."""
    return Policies(features={"support": Policy(mode=mode)})  # type: ignore[arg-type]


def _call_with_feedback(feature: str = "support") -> str:
    """One call of ``feature`` and a thumbs-down with the planted comment, given outside any trace."""
    client = obs.wrap(clients(FakeOpenAI())[0])
    with obs.trace("support", feature=feature):
        answer = client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "help"}])
    obs.feedback("thumbs_down", call_id=answer.id, comment=COMMENT)
    return str(obs.sdk.get_call_id(answer))


def _stored_feedback(url: str) -> list[sa.Row[tuple[str, str, str | None]]]:
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            return list(connection.execute(sa.text("SELECT call_id, value, comment FROM feedback")).all())
    finally:
        store.close()


def _spooled(spool: Path) -> tuple[str, list[Feedback]]:
    """Every spool file's text, and the feedback records in them."""
    texts = [f.read_text(encoding="utf-8") for f in sorted(spool.rglob("*.jsonl*")) if f.is_file()]
    records = [loads(line) for text in texts for line in text.splitlines() if line]
    return "\n".join(texts), [r for r in records if isinstance(r, Feedback)]


def _assert_redacted(comment: str | None) -> None:
    assert comment is not None
    assert [value for value in PLANTED.values() if value in comment] == []
    assert all(f"<{entity}>" in comment for entity in PLANTED), comment
    assert all(words in comment for words in KEPT_WORDS), comment


# --- the store -----------------------------------------------------------------------------------------


def test_a_feedback_comment_under_redact_is_stored_without_its_pii(db_url: str, tmp_path: Path) -> None:
    obs.configure(db_url, spool_dir=tmp_path / "spool", privacy=_policies("redact"))
    call_id = _call_with_feedback()
    assert obs.flush(60)
    [(stored_call, value, comment)] = _stored_feedback(db_url)
    assert (stored_call, value) == (call_id, "thumbs_down")
    _assert_redacted(comment)


def test_a_feedback_comment_under_metadata_only_is_not_stored_but_its_value_is(db_url: str, tmp_path: Path) -> None:
    obs.configure(db_url, spool_dir=tmp_path / "spool", privacy=_policies("metadata_only"))
    call_id = _call_with_feedback()
    assert obs.flush(60)
    assert [tuple(row) for row in _stored_feedback(db_url)] == [(call_id, "thumbs_down", None)]
    store = Store(db_url)
    assert (call := store.get_call(call_id)) is not None and call.user_feedback == "thumbs_down"
    store.close()


def test_a_comment_on_a_call_of_a_full_feature_is_stored_as_written(db_url: str, tmp_path: Path) -> None:
    obs.configure(db_url, spool_dir=tmp_path / "spool", privacy=_policies("metadata_only"))
    _call_with_feedback(feature="internal")
    assert obs.flush(60)
    assert [row.comment for row in _stored_feedback(db_url)] == [COMMENT]


def test_feedback_from_another_process_follows_the_stored_call(db_url: str, tmp_path: Path) -> None:
    """The worker that gets the thumbs-down is often not the one that made the call: the writer asks the store."""
    obs.configure(db_url, spool_dir=tmp_path / "spool", privacy=_policies("metadata_only"))
    client = obs.wrap(clients(FakeOpenAI())[0])
    with obs.trace("support", feature="support") as root:
        answer = client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "help"}])
    call_id = obs.sdk.get_call_id(answer)
    assert obs.flush(60)
    obs.configure(db_url, spool_dir=tmp_path / "spool", privacy=_policies("metadata_only"))  # a fresh recorder
    obs.feedback("thumbs_down", call_id=call_id, comment=COMMENT)
    obs.feedback("thumbs_down", trace_id=root.trace_id, comment=COMMENT)
    assert obs.flush(60)
    assert sorted((row.call_id or "", row.comment) for row in _stored_feedback(db_url)) == [
        ("", None), (call_id, None)]  # fmt: skip


# --- the spool, with the database down ---------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    """A database of each dialect that is down: (URL obs writes to, URL to read it back, bring it up)."""
    if request.param == "sqlite":
        folder = tmp_path / "not-yet"
        url = f"sqlite:///{folder / 'obs.db'}"
        yield url, url, folder.mkdir
        return
    real = str(request.getfixturevalue("postgres_url"))
    target = make_url(config.normalize_database_url(real))
    proxy = Proxy((target.host or "127.0.0.1", target.port or 5432))
    yield target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), real, proxy.up
    proxy.down()


@pytest.mark.parametrize("mode", ["redact", "metadata_only"])
def test_comments_spooled_while_the_database_is_down_hold_no_pii(outage: Outage, tmp_path: Path, mode: str) -> None:
    url, readable, up = outage
    spool = tmp_path / "spool"
    obs.configure(url, spool_dir=spool, privacy=_policies(mode))
    call_id = _call_with_feedback()
    assert obs.flush(60)
    assert obs.stats().written == 0 and obs.stats().spooled == 3  # the trace, the call, the feedback
    text, [spooled] = _spooled(spool)
    assert [value for value in PLANTED.values() if value in text] == []
    assert (spooled.call_id, spooled.value) == (call_id, "thumbs_down")
    if mode == "redact":
        _assert_redacted(spooled.comment)
    else:
        assert spooled.comment is None
    obs.configure(None)
    up()  # the database is back: what the spool held is what is stored
    recorder = Recorder(readable, spool_dir=spool)
    try:
        assert recorder.replay_spool()[0] == 3
    finally:
        recorder.shutdown(10)  # a writer left running would write into the next test's database
    [(_, value, comment)] = _stored_feedback(readable)
    assert value == "thumbs_down" and comment == spooled.comment


def test_comments_spooled_from_the_app_thread_under_redact_are_not_stored(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full queue spools from the app's thread, where there is no time for the analyzer: as with call content,
    the comment is dropped, never spooled as written."""
    monkeypatch.setattr(config, "QUEUE_MAX", 0)
    spool = tmp_path / "spool"
    obs.configure(db_url, spool_dir=spool, privacy=_policies("redact"))
    _call_with_feedback()
    text, [spooled] = _spooled(spool)
    assert spooled.comment is None and spooled.value == "thumbs_down"
    assert [value for value in PLANTED.values() if value in text] == []


# --- which policy: pure code, no database ------------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICIES = Policies(features={"support": Policy(mode="metadata_only"), "chat": Policy(mode="sample", sample_rate=0.5)})


def _feedback(**fields: object) -> Feedback:
    values: dict[str, object] = {"comment": "it was wrong", **fields}
    return Feedback(id=new_span_id(), ts=NOW, value="thumbs_down", **values)  # type: ignore[arg-type]


def _comments(records: list[object], policies: Policies = POLICIES, **kwargs: object) -> list[str | None]:
    out = PrivacyStep(policies).apply(records, **kwargs)  # type: ignore[arg-type]
    return [r.comment for r in out if isinstance(r, Feedback)]


def test_the_call_a_comment_is_about_decides_over_the_trace_context_it_was_given_in() -> None:
    call = make_call(NOW, feature="support")
    assert _comments([call, _feedback(call_id=call.id, feature="feedback_endpoint")]) == [None]
    other = make_call(NOW, feature="feedback_endpoint")
    assert _comments([other, _feedback(call_id=other.id, feature="support")]) == ["it was wrong"]


def test_a_call_seen_in_an_earlier_batch_is_remembered() -> None:
    step = PrivacyStep(POLICIES)
    call = make_call(NOW, feature="support")
    step.apply([call])
    [stored] = step.apply([_feedback(call_id=call.id)])
    assert stored.comment is None


def test_an_unknown_call_falls_back_to_the_trace_context_then_to_the_default() -> None:
    unknown = new_span_id()
    assert _comments([_feedback(call_id=unknown, feature="support")]) == [None]
    assert _comments([_feedback(call_id=unknown)]) == ["it was wrong"]
    strict = Policies(default=Policy(mode="metadata_only"), features={"internal": Policy()})
    assert _comments([_feedback(call_id=unknown)], strict) == [None]


def test_the_store_is_asked_about_calls_and_traces_not_seen_and_its_failure_is_not_fatal() -> None:
    call_id, trace_id = new_span_id(), new_trace_id()
    asked: list[tuple[list[str], list[str]]] = []

    def lookup(calls: list[str], traces: list[str]) -> tuple[dict[str, str | None], dict[str, set[str | None]]]:
        asked.append((calls, traces))
        return {call_id: "support"}, {trace_id: {None, "support"}}

    records = [_feedback(call_id=call_id), _feedback(trace_id=trace_id), _feedback(call_id=new_span_id(), comment=None)]
    assert _comments(records, lookup=lookup) == [None, None, None]
    assert asked == [([call_id], [trace_id])]  # feedback without a comment needs no policy: nothing asked

    def down(calls: list[str], traces: list[str]) -> tuple[dict[str, str | None], dict[str, set[str | None]]]:
        raise ConnectionError("refused")

    assert _comments([_feedback(call_id=new_span_id(), feature="support")], lookup=down) == [None]


def test_a_comment_on_a_trace_follows_the_strictest_feature_of_its_calls_and_spans() -> None:
    trace_id = new_trace_id()
    steps = [make_call(NOW, trace_id=trace_id, feature="internal"), make_span(trace_id, NOW, feature="support")]
    assert _comments([*steps, _feedback(trace_id=trace_id)]) == [None]
    assert _comments([steps[0], _feedback(trace_id=trace_id)]) == ["it was wrong"]


def test_under_sample_a_comment_is_kept_exactly_when_its_call_content_is() -> None:
    calls = [make_call(NOW, feature="chat") for _ in range(40)]
    out = PrivacyStep(POLICIES).apply([*calls, *(_feedback(call_id=c.id) for c in calls)])
    kept_content = [c.content is not None for c in out[:40]]
    assert kept_content == [sampled(c.id, 0.5) for c in calls] and 0 < sum(kept_content) < 40
    assert [f.comment is not None for f in out[40:]] == kept_content
    trace_only = make_span(new_trace_id(), NOW, feature="chat")
    assert _comments([trace_only, _feedback(trace_id=trace_only.trace_id)]) == [None]  # no draw to follow


def test_the_spooled_feedback_line_reads_back_with_its_feature() -> None:
    from obs.recorder.spool import dumps

    item = _feedback(call_id=new_span_id(), feature="support")
    assert loads(dumps(item)) == item
    old_line = json.loads(dumps(item))
    del old_line["feature"]  # a spool file written before feedback carried its feature
    assert loads(json.dumps(old_line)).feature is None
