"""The Alerts page and the overview's alert list under Streamlit's AppTest, on a store of each dialect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from obs.alerts import engine
from obs.store.store import Store
from tests.factories import make_call

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC)


@pytest.fixture
def store_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    store = Store(db_url)
    failing = [make_call(NOW - timedelta(minutes=20, seconds=i), feature="checkout", status="error",
                         error="boom", cost_usd=Decimal("0.001")) for i in range(25)]  # fmt: skip
    store.write_batch(failing)
    store.close()
    monkeypatch.setenv("OBS_DATABASE_URL", db_url)
    monkeypatch.delenv("OBS_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.delenv("OBS_ALERT_WEBHOOKS", raising=False)
    yield db_url


def alerts_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/8_Alerts.py").run()
    assert not at.exception, at.exception
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_check_now_opens_the_alert_and_the_overview_lists_it_first(store_url: str) -> None:
    at = alerts_page()
    assert "No alert is firing" in "\n".join(s.value for s in at.success)
    next(b for b in at.button if b.label == "Check now").click().run()
    assert not at.exception, at.exception
    assert "feature checkout: 100% of 25 calls failed" in markdown(at)
    overview = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not overview.exception
    assert "Error rate of a feature" in markdown(overview)
    links = [e for e in overview.get("page_link") if "Calls behind it" in str(e.proto)]
    assert links and "status" in str(links[0].proto) and "checkout" in str(links[0].proto)


def test_a_rule_added_on_the_page_is_stored_and_a_bad_one_is_explained(store_url: str) -> None:
    at = alerts_page()
    at.selectbox(key="new_kind").set_value("error_rate").run()
    at.text_input[0].set_value("Checkout failing")  # the form's name field
    next(n for n in at.number_input if n.label == "Threshold").set_value(0.05)
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert not at.exception, at.exception
    store = Store(store_url)
    added = [r for r in engine.load_rules(store) if r.name == "Checkout failing"]
    assert len(added) == 1 and added[0].kind == "error_rate" and added[0].threshold == 0.05
    # A latency rule without a factor is refused with the reason, and nothing is stored.
    at.selectbox(key="new_kind").set_value("latency_p95").run()
    at.text_input[0].set_value("No factor")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert any("needs a factor" in e.value for e in at.error)
    assert not [r for r in engine.load_rules(store) if r.name == "No factor"]
    store.close()
