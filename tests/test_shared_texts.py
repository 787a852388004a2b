"""A system prompt thousands of calls repeat is stored once (llm_texts), and every reader still sees it whole."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from obs import config
from obs.privacy import retention
from obs.records import CallContent, LLMCall
from obs.store import queries
from obs.store.schema import llm_call_content, llm_texts
from obs.store.store import Store
from tests.factories import make_call

NOW = datetime.now(UTC).replace(microsecond=0)
PROMPT = "You are the billing assistant of Flowdesk. Answer in the house style, cite the invoice. " * 4


def _call(i: int, prompt: str = PROMPT, when: datetime = NOW, **fields: object) -> LLMCall:
    messages = [{"role": "system", "content": prompt}, {"role": "user", "content": f"Question {i}"}]
    content = CallContent(system_prompt=prompt, messages=messages, response={"id": f"r{i}"}, output_text=f"A {i}")
    return dataclasses.replace(make_call(when - timedelta(minutes=i), call_id=f"call_{i}", **fields), content=content)


def test_a_repeated_system_prompt_is_stored_once_and_reads_back_whole(store: Store) -> None:
    calls = [_call(i) for i in range(30)]
    store.write_batch(calls[:10])
    store.write_batch(calls[10:])
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(llm_texts.c.text)).scalars().all() == [PROMPT]
        stored = connection.execute(sa.select(llm_call_content.c.system_prompt, llm_call_content.c.messages)).all()
    assert all(prompt is None and PROMPT not in str(messages) for prompt, messages in stored)
    for call in calls:
        assert store.get_call(call.id) == call


def test_short_or_different_system_prompts_are_stored_with_the_call(store: Store) -> None:
    short = _call(1, prompt="Be brief.")
    store.write_batch([short])
    assert store.get_call("call_1") == short
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(llm_texts)).scalar_one() == 0
    assert len("Be brief.") < config.SHARED_TEXT_MIN_CHARS


def test_the_seed_view_shows_the_prompt_with_its_system_message(store: Store) -> None:
    store.write_batch([_call(1)])
    with store.engine.connect() as connection:
        prompt = connection.execute(sa.text("SELECT prompt FROM llm_calls_full WHERE id = 'call_1'")).scalar_one()

    decoded = json.loads(prompt) if isinstance(prompt, str) else prompt
    assert decoded == [{"role": "system", "content": PROMPT}, {"role": "user", "content": "Question 1"}]


def test_eval_search_finds_text_of_a_shared_system_prompt(store: Store) -> None:
    store.write_batch([_call(1, is_refusal=True)])
    frame = queries.run("eval_sample_pool", db=store, start=NOW - timedelta(days=1), end=NOW + timedelta(days=1),
                        feature=None, model=None, prompt_version=None, tenant_id=None, text="%invoice%",
                        thumbs_down=0, errors=0, refusals=1, slow_floor_ms=None, expensive_usd=None)  # fmt: skip
    assert list(frame["id"]) == ["call_1"]


def test_retention_removes_a_shared_prompt_no_stored_content_uses(store: Store) -> None:
    other = "You are the shipping assistant of Flowdesk, always give the tracking link first please. " * 3
    store.write_batch([_call(1, when=NOW - timedelta(days=10)), _call(2, prompt=other)])
    retention.apply(store, retention.RetentionPolicy(content_days=5, delete_days=300, keep_days=300), NOW)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(llm_texts.c.text)).scalars().all() == [other]
    assert store.get_call("call_2").content.system_prompt == other  # type: ignore[union-attr]
