"""The wrapped-client test rigs: the real openai (or anthropic) clients, a fake at the HTTP layer, a real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import anthropic
import openai
import pytest

import obs
from obs.records import LLMCall, Trace
from obs.store.store import Store
from tests import fake_anthropic
from tests.fake_anthropic import FakeAnthropic
from tests.fake_openai import FakeOpenAI, clients

USER = [
    {"role": "system", "content": "You triage tickets."},
    {"role": "user", "content": "My printer is on fire"},
]
WEATHER_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def gpt5_mini_cost(call: LLMCall) -> Decimal:
    """gpt-5-mini's price for the call's tokens: $0.25 input, $0.025 cached input, $2 output per million."""
    assert call.prompt_tokens is not None and call.cached_tokens is not None and call.completion_tokens is not None
    fresh = call.prompt_tokens - call.cached_tokens
    return (fresh * Decimal("0.25") + call.cached_tokens * Decimal("0.025") + call.completion_tokens * 2) / 10**6


@dataclass
class Rig:
    fake: FakeOpenAI
    client: openai.OpenAI
    aclient: openai.AsyncOpenAI
    plain: openai.OpenAI
    store: Store

    def trace(self, trace_id: str) -> Trace:
        assert obs.flush(10)
        found = self.store.get_trace(trace_id)
        assert found is not None
        return found

    def calls(self, trace_id: str) -> list[LLMCall]:
        """The stored calls of a trace, in the order they were made, with their content."""
        found = [self.store.get_call(c.id) for c in self.trace(trace_id).calls]
        return sorted((c for c in found if c is not None), key=lambda c: c.ts)

    def only_call(self, trace_id: str) -> LLMCall:
        calls = self.trace(trace_id).calls
        assert len(calls) == 1
        stored = self.store.get_call(calls[0].id)
        assert stored is not None
        return stored


@pytest.fixture
def rig(db_url: str, tmp_path: Path) -> Iterator[Rig]:
    obs.configure(db_url, spool_dir=tmp_path / "spool")
    fake = FakeOpenAI()
    sync, async_ = clients(fake)
    plain, _ = clients(fake)
    store = Store(db_url)
    yield Rig(fake, obs.wrap(sync), obs.wrap(async_), plain, store)
    obs.configure(None)
    store.close()


@dataclass
class AnthropicRig(Rig):
    fake: FakeAnthropic  # type: ignore[assignment]
    client: anthropic.Anthropic  # type: ignore[assignment]
    aclient: anthropic.AsyncAnthropic  # type: ignore[assignment]
    plain: anthropic.Anthropic  # type: ignore[assignment]
    #: An unwrapped async client on the same fake, for comparisons.
    aplain: anthropic.AsyncAnthropic


@pytest.fixture
def anthropic_rig(db_url: str, tmp_path: Path) -> Iterator[AnthropicRig]:
    obs.configure(db_url, spool_dir=tmp_path / "spool")
    fake = FakeAnthropic()
    sync, async_ = fake_anthropic.clients(fake)
    plain, aplain = fake_anthropic.clients(fake)
    store = Store(db_url)
    yield AnthropicRig(fake, obs.wrap(sync), obs.wrap(async_), plain, store, aplain)
    obs.configure(None)
    store.close()
