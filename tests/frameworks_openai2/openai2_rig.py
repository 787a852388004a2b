"""The rig of the openai 2.x environment: the real openai 2 clients on the shared fake (tests/fake_openai.py, loaded
by its path: the checkout itself must not be importable here, or ``import obs`` would find it), a real SQLite store."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import openai

import obs
from obs.records import LLMCall
from obs.store.store import Store

CHECKOUT = Path(__file__).resolve().parents[2]


def _load_fake() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fake_openai", CHECKOUT / "tests" / "fake_openai.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake_openai = _load_fake()


@dataclass
class Rig:
    fake: Any  # a tests/fake_openai.py FakeOpenAI
    store: Store

    def clients(self, *, wrapped: bool = True) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
        """A new sync and async client on the fake, recorded by obs unless ``wrapped=False``."""
        sync, async_ = fake_openai.clients(self.fake)
        return (obs.wrap(sync), obs.wrap(async_)) if wrapped else (sync, async_)

    def calls(self, trace_id: str) -> list[LLMCall]:
        """The stored calls of a trace, in the order they were made, with their content."""
        assert obs.flush(10)
        trace = self.store.get_trace(trace_id)
        assert trace is not None
        found = [self.store.get_call(c.id) for c in trace.calls]
        return sorted((c for c in found if c is not None), key=lambda c: c.ts)
