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
    assert "feature checkout: 100% of 25 calls failed (threshold 20%)" in markdown(at)
    overview = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not overview.exception
    assert "Error rate of a feature" in markdown(overview)
    links = [e for e in overview.get("page_link") if "Calls behind it" in str(e.proto)]
    assert links and "status" in str(links[0].proto) and "checkout" in str(links[0].proto)


def test_a_rule_added_on_the_page_is_stored_and_a_bad_one_is_explained(store_url: str) -> None:
    at = alerts_page()
    at.selectbox(key="new_kind").set_value("error_rate").run()
    at.text_input[0].set_value("Checkout failing")  # the form's name field
    next(t for t in at.text_input if t.label == "Threshold (%)").set_value("5%")
    next(t for t in at.text_input if t.label == "Window").set_value("2 hours")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert not at.exception, at.exception
    store = Store(store_url)
    added = [r for r in engine.load_rules(store) if r.name == "Checkout failing"]
    assert len(added) == 1 and added[0].kind == "error_rate" and added[0].threshold == 0.05
    assert added[0].window_minutes == 120 and added[0].cooldown_minutes == 360  # the form's default cooldown
    # A latency rule without a factor is refused with the reason, and nothing is stored.
    at.selectbox(key="new_kind").set_value("latency_p95").run()
    at.text_input[0].set_value("No factor")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert any("needs a factor" in e.value for e in at.error)
    assert not [r for r in engine.load_rules(store) if r.name == "No factor"]
    store.close()


def test_the_rules_table_reads_as_people_say_it_and_an_edited_row_is_the_rule_it_says(store_url: str) -> None:
    from obs.ui.alerts import readable_rules, rule_from_row
    from obs.ui.state import query

    at = alerts_page()
    assert not at.exception
    rules = query("alert_rules")
    shown = readable_rules(rules).set_index("name")
    assert shown.loc["Refusal rate jump for a model and prompt version", "window"] == "7 days"
    assert shown.loc["Error rate of a feature", ["window", "threshold", "cooldown"]].tolist() == [
        "1 hour", "20%", "1 hour"]  # fmt: skip
    assert shown.loc["Daily budget per tenant", "threshold"] == "$250.00"  # no value baked into the name
    assert shown.loc["Latency p95 up against last week", ["window", "factor", "threshold"]].tolist() == [
        "3 days", "1.5×", ""]  # fmt: skip
    # Unchanged rows are the stored rules exactly; an edit typed as people say it is stored as its value.
    stored = rules.to_dict("records")
    for before, row in zip(stored, readable_rules(rules).to_dict("records"), strict=True):
        rule = rule_from_row(row, before)
        assert (rule.window_minutes, rule.cooldown_minutes, rule.threshold, rule.factor) == (
            before["window_minutes"],
            before["cooldown_minutes"],
            _none(before["threshold"]),
            _none(before["factor"]),
        )
    error_rule = next(r for r in stored if r["kind"] == "error_rate")
    row = readable_rules(rules).set_index("id").loc[error_rule["id"]].to_dict() | {"id": error_rule["id"]}
    edited = rule_from_row(row | {"window": "30 min", "threshold": "35%", "cooldown": "0"}, error_rule)
    assert (edited.window_minutes, edited.threshold, edited.cooldown_minutes) == (30, 0.35, 0)
    with pytest.raises(ValueError, match="no duration"):
        rule_from_row(row | {"window": "soon"}, error_rule)


def _none(value: object) -> object:
    return None if value is None or value != value else value
