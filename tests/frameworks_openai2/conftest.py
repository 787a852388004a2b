"""Fixtures of the openai 2.x environment (see pytest.ini)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai2_rig import Rig, fake_openai

import obs
from obs.store.store import Store


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    obs.configure(url, spool_dir=tmp_path / "spool")
    store = Store(url)
    yield Rig(fake_openai.FakeOpenAI(), store)
    obs.configure(None)
    store.close()
