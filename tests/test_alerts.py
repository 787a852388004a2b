"""Alerts: each rule on synthetic data (fires, not below minimum volume, not twice within the cooldown,
resolves), webhook delivery against a local HTTP server (a failing one too), and the CLI."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from obs.alerts import engine, notify
from obs.alerts.findings import evaluate
from obs.alerts.rules import (
    DEFAULT_RULES,
    Rule,
    duration_text,
    factor_text,
    parse_duration,
    parse_factor,
    parse_threshold,
    threshold_text,
)
from obs.cli.main import main
from obs.records import Feedback, LLMCall, new_span_id
from obs.store.store import Store
from tests.factories import make_call

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def only(store: Store, *names: str) -> dict[str, int]:
    """Keep only the named default rules (others switched off); returns name -> id."""
    ids = {}
    for rule in engine.load_rules(store):
        assert rule.id is not None
        engine.set_enabled(store, rule.id, rule.name in names)
        ids[rule.name] = rule.id
    return {name: ids[name] for name in names}


def calls(n: int, ts: datetime, **fields: Any) -> list[LLMCall]:
    fields.setdefault("cost_usd", Decimal("0.001"))
    return [make_call(ts + timedelta(seconds=i), **fields) for i in range(n)]


# --- rules as pure code ------------------------------------------------------------------------------

LATENCY = Rule("lat", "latency_p95", "feature_model", window_minutes=60, factor=1.5, min_volume=20, id=1)


def lat_row(p95: float, calls: int, feature: str = "answer", model: str = "m") -> dict[str, Any]:
    return {"feature": feature, "model": model, "p95": p95, "calls": calls}


def test_latency_fires_above_factor_times_last_week_and_not_below_min_volume() -> None:
    found = evaluate(
        LATENCY, [lat_row(3000, 40), lat_row(1000, 40, model="x")], [lat_row(1000, 40), lat_row(900, 40, model="x")]
    )
    assert [(f.subject, f.value, f.baseline) for f in found] == [({"feature": "answer", "model": "m"}, 3000, 1000)]
    assert evaluate(LATENCY, [lat_row(3000, 19)], [lat_row(1000, 40)]) == []  # too few calls now
    assert evaluate(LATENCY, [lat_row(3000, 40)], [lat_row(1000, 5)]) == []  # too few calls last week
    assert evaluate(LATENCY, [lat_row(1400, 40)], [lat_row(1000, 40)]) == []  # 1.4x < 1.5x
    assert evaluate(replace(LATENCY, enabled=False), [lat_row(3000, 40)], [lat_row(1000, 40)]) == []


def refusal_row(pv: str, calls: int, refusals: int, model: str = "m") -> dict[str, Any]:
    return {"feature": "answer", "model": model, "prompt_version": pv, "calls": calls, "refusals": refusals,
            "errors": 0, "unpriced": 0}  # fmt: skip


def test_refusal_jump_compares_a_new_prompt_version_with_the_models_rate_the_week_before() -> None:
    rule = Rule("ref", "refusal_jump", "feature_model_prompt", window_minutes=60, factor=3, min_volume=20, id=2)
    before = [refusal_row("v2", 100, 5), refusal_row("v2", 100, 5, model="other")]
    now = [refusal_row("v3", 50, 25), refusal_row("v2", 50, 3), refusal_row("v3", 50, 4, model="other")]
    found = evaluate(rule, now, before)
    assert [f.subject for f in found] == [{"feature": "answer", "model": "m", "prompt_version": "v3"}]
    assert found[0].value == 0.5 and found[0].baseline == 0.05 and found[0].conditions == {"refusals": "1"}
    # A clean last week is smoothed, not a division by zero; few calls never fire.
    assert evaluate(rule, [refusal_row("v3", 50, 10)], [refusal_row("v2", 100, 0)])
    assert evaluate(rule, [refusal_row("v3", 19, 19)], before) == []


def test_error_rate_sums_prompt_versions_of_a_feature_and_needs_volume() -> None:
    rule = Rule("err", "error_rate", "feature", window_minutes=60, threshold=0.2, min_volume=20, id=3)
    rows = [{**refusal_row("v1", 10, 0), "errors": 3}, {**refusal_row("v2", 15, 0, model="x"), "errors": 3}]
    found = evaluate(rule, rows)
    assert [(f.subject, f.volume, round(f.value, 2)) for f in found] == [({"feature": "answer"}, 25, 0.24)]
    assert evaluate(rule, rows[:1]) == []  # 30 % of only 10 calls


def spend_row(subject: str, spend: float | None, calls: int = 5, scope: str = "user") -> dict[str, Any]:
    return {"scope": scope, "subject": subject, "spend": spend, "calls": calls}


def test_cost_budget_absolute_and_relative_to_the_median() -> None:
    budget = Rule("b", "cost_budget", "tenant", window_minutes=1440, threshold=100, min_volume=1, id=4)
    rows = [spend_row("acme", 150, scope="tenant"), spend_row("globex", 99, scope="tenant"), spend_row("u1", 500)]
    assert [f.subject for f in evaluate(budget, rows)] == [{"tenant_id": "acme"}]
    outlier = Rule("o", "cost_budget", "user", window_minutes=1440, factor=10, min_volume=3, id=5)
    users = [spend_row(f"u{i}", 1.0) for i in range(9)] + [spend_row("big", 12.0), spend_row("few", 50.0, calls=2)]
    assert [f.subject for f in evaluate(outlier, users)] == [{"user_id": "big"}]  # "few" is below min volume
    assert evaluate(outlier, [spend_row("a", None), spend_row("b", None)]) == []  # unpriced: no median, no alert


def test_feedback_streak_is_the_run_of_thumbs_down_at_the_end() -> None:
    rule = Rule("s", "feedback_streak", "user", window_minutes=1440, threshold=3, min_volume=3, id=6)
    rows = [
        {"user_id": "a", "value": v} for v in ["thumbs_down", "thumbs_up", "thumbs_down", "thumbs_down", "thumbs_down"]
    ]
    rows += [{"user_id": "b", "value": v} for v in ["thumbs_down"] * 4 + ["thumbs_up"]]
    found = evaluate(rule, rows)
    assert [(f.subject, f.value) for f in found] == [({"user_id": "a"}, 3)]


def test_unpriced_model_and_rule_validation() -> None:
    rule = Rule("u", "unpriced_model", "model", window_minutes=60, min_volume=1, id=7)
    rows = [{**refusal_row("v1", 5, 0), "unpriced": 2}, {**refusal_row("v1", 5, 0, model="priced"), "unpriced": 0}]
    assert [f.subject for f in evaluate(rule, rows)] == [{"model": "m"}]
    with pytest.raises(ValueError, match="needs a factor"):
        Rule("x", "latency_p95", "feature", window_minutes=60)
    with pytest.raises(ValueError, match="group by"):
        Rule("x", "error_rate", "tenant", window_minutes=60, threshold=0.1)
    with pytest.raises(ValueError, match="unknown rule kind"):
        Rule("x", "nope", "feature", window_minutes=60)  # type: ignore[arg-type]


# --- the engine on a real store ------------------------------------------------------------------------


def test_default_rules_exist_after_init(store: Store) -> None:
    assert [r.name for r in engine.load_rules(store)] == [r.name for r in DEFAULT_RULES]


def test_an_alert_opens_stays_quiet_while_firing_resolves_and_respects_the_cooldown(store: Store) -> None:
    rule_id = only(store, "Error rate of a feature")["Error rate of a feature"]
    store.write_batch(calls(10, NOW - timedelta(minutes=30), feature="checkout", status="error", error="boom")
                      + calls(10, NOW - timedelta(minutes=30), feature="checkout"))  # fmt: skip
    first = engine.check(store, NOW, webhooks=[])
    assert len(first.opened) == 1 and "checkout" in first.opened[0] and "50%" in first.opened[0]
    again = engine.check(store, NOW + timedelta(minutes=5), webhooks=[])
    assert again.opened == [] and len(again.still_firing) == 1
    later = NOW + timedelta(minutes=45)  # the failed calls left the 60-minute window
    resolved = engine.check(store, later, webhooks=[])
    assert len(resolved.resolved) == 1 and resolved.firing == 0
    # Fires again 30 minutes after resolving: within the 60-minute cooldown, the same alert reopens quietly.
    store.write_batch(calls(20, later + timedelta(minutes=20), feature="checkout", status="error"))
    reopened = engine.check(store, later + timedelta(minutes=30), webhooks=[])
    assert reopened.opened == [] and len(reopened.reopened) == 1
    engine.check(store, later + timedelta(minutes=100), webhooks=[])  # resolves again
    store.write_batch(calls(20, later + timedelta(minutes=200), feature="checkout", status="error"))
    assert len(engine.check(store, later + timedelta(minutes=210), webhooks=[]).opened) == 1  # cooled down: new
    with store.engine.connect() as connection:
        events = connection.execute(
            sa.text("SELECT status, checks FROM alert_events WHERE rule_id = :r ORDER BY id"), {"r": rule_id}
        ).all()
    assert [tuple(e) for e in events] == [("resolved", 3), ("firing", 1)]


def test_below_minimum_volume_nothing_opens(store: Store) -> None:
    only(store, "Error rate of a feature")
    store.write_batch(calls(19, NOW - timedelta(minutes=10), feature="checkout", status="error"))
    assert engine.check(store, NOW, webhooks=[]).firing == 0


def test_each_default_rule_fires_on_its_own_synthetic_problem(store: Store) -> None:
    week = timedelta(days=7)
    rows: list[LLMCall] = []
    # Latency: same hours last week 1 s, now 3 s (feature "answer", model gpt-5-mini).
    rows += calls(25, NOW - week - timedelta(hours=5), feature="answer", latency_ms=1000)
    rows += calls(25, NOW - timedelta(hours=5), feature="answer", latency_ms=3000)
    # Refusals: prompt v2 last week rarely refuses, v3 this week mostly does.
    rows += calls(40, NOW - week - timedelta(days=2), feature="help", model="claude-haiku-4-5", prompt_version="v2")
    rows += calls(30, NOW - timedelta(days=2), feature="help", model="claude-haiku-4-5", prompt_version="v3",
                  is_refusal=True)  # fmt: skip
    # Spend: one user far above nine others; a tenant above its $250 budget.
    for i in range(9):
        rows += calls(3, NOW - timedelta(hours=2), user_id=f"u{i}", feature="misc", cost_usd=Decimal("0.01"))
    rows += calls(3, NOW - timedelta(hours=2), user_id="whale", tenant_id="acme", feature="misc",
                  cost_usd=Decimal("100"))  # fmt: skip
    rows += calls(2, NOW - timedelta(hours=3), model="in-house-1", feature="misc", cost_usd=None)
    unhappy = calls(5, NOW - timedelta(days=1), user_id="grumpy", feature="misc")
    rows += unhappy
    store.write_batch(rows)
    store.write_batch(feedback_=[Feedback(id=new_span_id(), ts=c.ts + timedelta(minutes=1), value="thumbs_down",
                                         call_id=c.id) for c in unhappy])  # fmt: skip
    report = engine.check(store, NOW, webhooks=[])
    with store.engine.connect() as connection:
        fired = connection.execute(
            sa.text(
                "SELECT r.name, e.subject_key FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id "
                "ORDER BY r.id, e.subject_key"
            )
        ).all()
    assert [tuple(f) for f in fired] == [
        ("Latency p95 up against last week", "feature=answer|model=gpt-5-mini"),
        ("Refusal rate jump for a model and prompt version", "feature=help|model=claude-haiku-4-5|prompt_version=v3"),
        ("User spending far above the others", "user_id=whale"),
        ("Daily budget per feature", "feature=misc"),
        ("Daily budget per tenant", "tenant_id=acme"),
        ("Unhappy user: thumbs-down in a row", "user_id=grumpy"),
        ("Calls of a model that cannot be priced", "model=in-house-1"),
    ]
    assert len(report.opened) == 7


def test_replays_do_not_count(store: Store) -> None:
    only(store, "Error rate of a feature")
    store.write_batch(calls(30, NOW - timedelta(minutes=10), feature="f", status="error", source="replay"))
    assert engine.check(store, NOW, webhooks=[]).firing == 0


# --- webhooks ------------------------------------------------------------------------------------------


class Receiver:
    """A local HTTP server that records JSON bodies; it answers 500 to the first ``fail`` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = fail
        self.requests = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.requests <= receiver.fail:
                    self.send_response(500)
                else:
                    receiver.bodies.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


def test_webhooks_get_opened_and_resolved_events_with_retries(store: Store, receiver: Receiver) -> None:
    only(store, "Error rate of a feature")
    hooks = [notify.Webhook.parse(f"slack:{receiver.url}"), notify.Webhook.parse(receiver.url)]
    store.write_batch(calls(20, NOW - timedelta(minutes=10), feature="checkout", status="error"))
    report = engine.check(store, NOW, hooks, backoff_s=0.01)
    assert report.delivered == 2 and report.undelivered == []  # the first two 500s were retried
    slack, generic = receiver.bodies
    assert "Error rate of a feature" in slack["text"] and slack["blocks"][0]["type"] == "section"
    assert generic["change"] == "opened" and generic["subject"] == {"feature": "checkout"}
    assert generic["link"].startswith("http://127.0.0.1:8501/Calls?") and "status=error" in generic["link"]
    engine.check(store, NOW + timedelta(minutes=5), hooks, backoff_s=0.01)  # still firing: nothing sent
    assert len(receiver.bodies) == 2
    engine.check(store, NOW + timedelta(hours=2), hooks, backoff_s=0.01)
    assert [b.get("change") for b in receiver.bodies[2:]] == [None, "resolved"]  # slack body, then generic


def test_a_failing_webhook_keeps_the_event_until_a_later_check_delivers_it(store: Store) -> None:
    only(store, "Error rate of a feature")
    down = Receiver(fail=10**6)
    hook = notify.Webhook.parse(down.url)
    store.write_batch(calls(20, NOW - timedelta(minutes=10), feature="checkout", status="error"))
    first = engine.check(store, NOW, [hook], attempts=2, backoff_s=0.01)
    assert first.delivered == 0 and "HTTP 500" in first.undelivered[0] and down.requests == 2
    down.fail = 0  # the receiver recovers
    second = engine.check(store, NOW + timedelta(minutes=1), [hook], attempts=2, backoff_s=0.01)
    down.close()
    assert second.delivered == 1 and down.bodies[0]["change"] == "opened"
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, attempts, target FROM alert_notifications")).all()
    assert [(r[0], r[1]) for r in rows] == [("sent", 3)]
    assert "/hook" not in rows[0][2]  # the stored target hides the URL's path (a Slack URL's secret)


def test_webhook_spec_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="not a webhook URL"):
        notify.Webhook.parse("ftp://example.com/x")
    assert notify.Webhook.parse("https://hooks.slack.com/services/T/B/X").format == "slack"


# --- CLI -----------------------------------------------------------------------------------------------


def test_cli_check_reports_and_can_fail_for_cron(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    store = Store(url)
    only(store, "Error rate of a feature")
    store.write_batch(calls(20, datetime.now(UTC) - timedelta(minutes=5), feature="checkout", status="error"))
    store.close()
    runner = CliRunner()
    result = runner.invoke(main, ["alerts", "check", "--database-url", url])
    assert result.exit_code == 0 and "1 opened" in result.output and "feature checkout" in result.output
    result = runner.invoke(main, ["alerts", "check", "--database-url", url, "--fail-on-firing"])
    assert result.exit_code == 2 and "1 still firing" in result.output
    monkeypatch.setenv("OBS_ALERT_WEBHOOKS", "not-a-url")
    result = runner.invoke(main, ["alerts", "check", "--database-url", url])
    assert result.exit_code == 1 and "not a webhook URL" in result.output
    listed = runner.invoke(main, ["alerts", "rules", "--database-url", url])
    assert listed.exit_code == 0 and "Error rate of a feature" in listed.output
    assert runner.invoke(main, ["alerts", "disable", "999", "--database-url", url]).exit_code == 1


def test_cli_check_every_keeps_checking_until_interrupted(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'obs.db'}"
    Store(url).close()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "obs"), "alerts", "check", "--every", "10", "--database-url", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first check has run; the command now sleeps until the next one
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert first.startswith("checked 8 rules") and proc.returncode == 0, err
    both = CliRunner().invoke(main, ["alerts", "check", "--at", "2026-11-20T12:00:00", "--every", "10",
                                     "--database-url", url])  # fmt: skip
    assert both.exit_code == 1 and "do not go together" in both.output


def test_a_refusal_jump_must_hold_beyond_chance_on_the_calls_it_counts() -> None:
    """The demo's false alarm of 2026-12-03: 11 refusals in 30 calls is 3.2x a 11 % week, but 30 calls cannot tell
    that from chance; 30 in 34 against 20 % can. Only the second fires."""
    from obs.alerts.findings import _refusal, wilson_low

    rule = next(r for r in DEFAULT_RULES if r.kind == "refusal_jump")
    week = [{"feature": "help_answer", "model": "gpt-4.1", "refusals": 16, "calls": 140},
            {"feature": "help_answer", "model": "claude", "refusals": 14, "calls": 70}]  # fmt: skip
    now = [
        {"feature": "help_answer", "model": "gpt-4.1", "prompt_version": "v2", "refusals": 11, "calls": 30},
        {"feature": "help_answer", "model": "claude", "prompt_version": "v3", "refusals": 30, "calls": 34},
    ]
    fired = _refusal(rule, now, week)
    assert [f.subject["model"] for f in fired] == ["claude"]
    assert 11 / 30 > 3 * (16 + 1) / (140 + 2) > wilson_low(11, 30)  # the rate alone would have fired
    assert wilson_low(0, 10) == 0.0 and wilson_low(10, 10) < 1.0 and wilson_low(300, 1000) > wilson_low(3, 10)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("90 min", 90), ("3 mins", 3), ("6 h", 360), ("24 hours", 1440), ("1 hour", 60), ("7 days", 10080),
     ("2w", 20160), ("1.5 hours", 90)],
)  # fmt: skip
def test_durations_are_typed_as_people_say_them(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["soon", "90 s", "0", "-5 min", "h"])
def test_a_duration_that_is_none_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|at least"):
        parse_duration(text)


def test_durations_thresholds_and_factors_read_back_as_they_are_shown() -> None:
    assert [duration_text(m) for m in (45, 60, 90, 360, 1440, 2880, 4320, 10080)] == [
        "45 min", "1 hour", "90 min", "6 hours", "24 hours", "2 days", "3 days", "7 days"]  # fmt: skip
    assert threshold_text("error_rate", 0.2) == "20%" and parse_threshold("error_rate", "20%") == 0.2
    assert parse_threshold("error_rate", "12.5") == 0.125  # a rate is typed in % with or without the sign
    assert threshold_text("cost_budget", 1000) == "$1,000.00" and parse_threshold("cost_budget", "$1,000") == 1000
    assert threshold_text("feedback_streak", 5.0) == "5" and parse_threshold("feedback_streak", "5") == 5
    assert threshold_text("latency_p95", None) == "" and parse_threshold("latency_p95", " ") is None
    assert factor_text(1.5) == "1.5×" and parse_factor("1.5×") == 1.5 and parse_factor("3x") == 3
    with pytest.raises(ValueError, match="percentage"):
        parse_threshold("error_rate", "lots")
    for minutes in range(1, 20000, 7):
        assert parse_duration(duration_text(minutes)) == minutes
