"""Every dashboard page renders under Streamlit's AppTest on a seeded store without exceptions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from obs.store import Store
from tests.factories import seeded_calls

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture
def seeded_env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    store = Store(sqlite_url)
    store.write_batch(seeded_calls(datetime.now(UTC), n=120))
    store.close()
    monkeypatch.setenv("OBS_DATABASE_URL", sqlite_url)
    return sqlite_url


def test_home_shows_the_store_counts(seeded_env: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Calls"] == "120"
    assert tiles["Traces"] == "40"


def test_home_says_so_when_the_store_is_empty(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_DATABASE_URL", sqlite_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "No calls recorded yet" in at.info[0].value


def test_home_shows_a_clear_error_for_a_bad_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_DATABASE_URL", "mysql://u@h/db")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "not mysql" in at.error[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(seeded_env: str, page: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert len(at.dataframe) >= 1
