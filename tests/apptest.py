"""Dashboard pages under Streamlit's AppTest: a store the dashboard reads, and a page opened through the app
with URL parameters (as a link opens it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def use_store(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard reads ``url``, without a password."""
    monkeypatch.setenv("OBS_DATABASE_URL", url)
    monkeypatch.delenv("OBS_DASHBOARD_PASSWORD", raising=False)


def open_page(page: str, **params: str) -> AppTest:
    """``page`` (``pages/...``) opened through app.py with these URL parameters; it raised nothing."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
