"""Privacy policies applied by the writer to wrapped calls: planted PII never reaches the store (every table,
both dialects, and the spool), metadata_only stores no content, sampling keeps the configured fraction, user ids
are stored as consistent keyed hashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai
import pytest
import sqlalchemy as sa

import obs
import obs.sdk
from obs.privacy.policy import Policies, Policy, hash_user_id
from obs.store import queries
from obs.store.schema import metadata
from obs.store.store import Store
from tests.fake_openai import FakeOpenAI, clients

#: Planted PII: each value must be absent from everything obs stores under ``redact``.
PLANTED = {
    "PERSON": ["Maria Garcia", "Jonathan Whitaker"],
    "EMAIL_ADDRESS": ["maria.garcia@example.com", "j.whitaker@mailhost.org"],
    "PHONE_NUMBER": ["+1 415-555-0132", "(212) 555-0187"],
    "CREDIT_CARD": ["4111 1111 1111 1111", "5555555555554444"],
    "IBAN_CODE": ["DE89 3704 0044 0532 0130 00"],
    "US_SSN": ["536-22-8726"],
    "IP_ADDRESS": ["192.168.17.20"],
    "LOCATION": ["Baker Street", "Springfield"],
}
#: Messages that plant them: the PII comes first so the fake's echo ("Echo: <first 60 chars>") repeats it.
PROMPTS = [
    "Maria Garcia here, my email is maria.garcia@example.com, please reset my password.",
    "maria.garcia@example.com wants a refund for order 1182.",
    "+1 415-555-0132 is my number, call me back about the outage.",
    "(212) 555-0187 is the office line of Jonathan Whitaker.",
    "4111 1111 1111 1111 was charged twice, expiry 12/29.",
    "5555555555554444 is the card on file, please remove it.",
    "DE89 3704 0044 0532 0130 00 is the IBAN for the payout.",
    "536-22-8726 is my social security number for the tax form.",
    "192.168.17.20 is the address of the server that failed.",
    "I live at 221 Baker Street in Springfield, send the parcel there.",
    "Jonathan Whitaker signed up with j.whitaker@mailhost.org yesterday.",
]
SYSTEM = "You are the support bot. Escalate to Maria Garcia (maria.garcia@example.com) when unsure."
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
TOOL_ARGS = json.dumps({"email": "j.whitaker@mailhost.org", "phone": "(212) 555-0187"})
TOOLS = [{"type": "function", "function": {"name": "lookup_customer", "description": "Find a customer.",
          "parameters": {"type": "object", "properties": {"email": {"type": "string"}}}}}]  # fmt: skip


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[tuple[openai.OpenAI, Store, Path]]:
    fake = FakeOpenAI()
    sync, _ = clients(fake)
    store = Store(db_url)
    yield obs.wrap(sync), store, tmp_path / "spool"
    obs.configure(None)
    store.close()


def send_planted(client: openai.OpenAI, feature: str) -> None:
    for i, prompt in enumerate(PROMPTS):
        with obs.trace("support", user_id=f"user-{i % 3}", feature=feature):
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": prompt},
            ]
            if i == 0:  # a tool round trip: PII in the arguments the model chose and in the tool's answer
                messages += [
                    {"role": "assistant", "content": None, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "lookup_customer",
                                                                           "arguments": TOOL_ARGS}}]},
                    {"role": "tool", "tool_call_id": "call_1",
                     "content": "Customer Jonathan Whitaker, +1 415-555-0132"},
                    {"role": "user", "content": prompt},
                ]  # fmt: skip
            client.chat.completions.create(model="gpt-5-mini", messages=messages, tools=TOOLS)  # type: ignore[arg-type]


def everything_stored(store: Store, spool: Path) -> str:
    """Every value of every row of every table, as text, plus the spool files."""
    parts: list[str] = []
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                parts.extend(json.dumps(v, ensure_ascii=False, default=str) for v in row)
    for file in spool.rglob("*") if spool.exists() else ():
        if file.is_file():
            parts.append(file.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_planted_pii_never_reaches_the_store_under_redact(
    client: tuple[openai.OpenAI, Store, Path], db_url: str
) -> None:
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(default=Policy(mode="redact")))
    send_planted(wrapped, "support")
    assert obs.flush(120)
    stored = everything_stored(store, spool)
    leaked = [value for values in PLANTED.values() for value in values if value in stored]
    assert leaked == []
    calls = queries.run("calls_page", store, start=_EPOCH, end=_FUTURE, status=None, refusals_only=0, feedback=None,
                        search=None, limit=100, offset=0, unpriced_only=0, prompt_version=None)  # fmt: skip
    assert len(calls) == len(PROMPTS)
    call = store.get_call(str(calls["id"].iloc[0]))
    assert call is not None and call.content_state == "redacted" and call.privacy_policy == "redact"
    assert call.content is not None and call.prompt_tokens  # metadata and the shape of the content survive
    for call_id in calls["id"]:  # the response keeps its JSON shape, its text redacted like the output text
        content = store.get_call(str(call_id)).content  # type: ignore[union-attr]
        assert content is not None and isinstance(content.response, dict)
        assert content.response["choices"][0]["message"]["content"] == content.output_text
    for entity in ("<EMAIL_ADDRESS>", "<PHONE_NUMBER>", "<CREDIT_CARD>", "<IBAN_CODE>", "<US_SSN>", "<PERSON>"):
        assert entity in stored


def test_metadata_only_stores_no_content_at_all(client: tuple[openai.OpenAI, Store, Path], db_url: str) -> None:
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(features={"support": Policy(mode="metadata_only")}))
    send_planted(wrapped, "support")
    assert obs.flush(60)
    with store.engine.connect() as connection:
        contents = connection.execute(sa.select(sa.func.count()).select_from(metadata.tables["llm_call_content"]))
        assert contents.scalar_one() == 0
        states = connection.execute(sa.text("SELECT DISTINCT content_state, privacy_policy FROM llm_calls")).all()
    assert [tuple(s) for s in states] == [("metadata_only", "metadata_only")]
    stored = everything_stored(store, spool)
    assert not any(value in stored for values in PLANTED.values() for value in values)


def test_other_features_keep_full_content_under_the_default(
    client: tuple[openai.OpenAI, Store, Path], db_url: str
) -> None:
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(features={"support": Policy(mode="metadata_only")}))
    with obs.trace("chat", feature="chitchat"):
        wrapped.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": PROMPTS[0]}])
    assert obs.flush(60)
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT id, content_state, privacy_policy FROM llm_calls")).one()
    call = store.get_call(row.id)
    assert (row.content_state, row.privacy_policy) == ("full", "full")
    assert call is not None and call.content is not None and PROMPTS[0] in json.dumps(call.content.messages)


def test_sampled_content_lands_within_tolerance_of_the_fraction(
    client: tuple[openai.OpenAI, Store, Path], db_url: str
) -> None:
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(default=Policy(mode="sample", sample_rate=0.3)))
    total = 400
    for i in range(total):
        wrapped.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": f"question {i}"}])
    assert obs.flush(60)
    with store.engine.connect() as connection:
        counts = dict(connection.execute(sa.text("SELECT content_state, COUNT(*) FROM llm_calls GROUP BY 1")).all())
        with_content = connection.execute(sa.text("SELECT COUNT(*) FROM llm_call_content")).scalar_one()
    assert sum(counts.values()) == total  # metadata for every call
    assert counts["full"] == with_content
    assert abs(with_content / total - 0.3) < 0.08


def test_user_ids_are_stored_as_consistent_keyed_hashes(
    client: tuple[openai.OpenAI, Store, Path], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBS_HASH_KEY", "test-secret")
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(hash_user_ids=True))
    for user in ("alice@example.com", "bob", "alice@example.com"):
        with obs.trace("t", user_id=user, feature="chat"):
            wrapped.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert obs.flush(60)
    top = queries.run("top_users_by_spend", store, start=_EPOCH, end=_FUTURE, limit=10)
    by_user = dict(zip(top["user_id"], top["calls"], strict=True))
    alice = hash_user_id("alice@example.com", b"test-secret")
    assert by_user == {alice: 2, hash_user_id("bob", b"test-secret"): 1}
    assert alice != hash_user_id("alice@example.com", b"another key")
    assert "alice@example.com" not in json.dumps(list(by_user))


def test_calls_spooled_at_exit_hold_no_pii_and_replay_as_metadata_only(
    client: tuple[openai.OpenAI, Store, Path], db_url: str
) -> None:
    """At exit there is no time for the analyzer: calls of a redacted feature are spooled without content."""
    wrapped, store, spool = client
    obs.configure(db_url, spool_dir=spool, privacy=Policies(default=Policy(mode="redact")))
    send_planted(wrapped, "support")
    recorder = obs.sdk.recorder()
    recorder.shutdown(timeout=0)  # whatever the writer has not finished goes to the spool now
    assert not any(value in everything_stored(store, spool) for values in PLANTED.values() for value in values)
    recorder.replay_spool()
    with store.engine.connect() as connection:
        states = dict(connection.execute(sa.text("SELECT content_state, COUNT(*) FROM llm_calls GROUP BY 1")).all())
    assert sum(states.values()) == len(PROMPTS) and set(states) <= {"redacted", "metadata_only"}
    assert not any(value in everything_stored(store, spool) for values in PLANTED.values() for value in values)
