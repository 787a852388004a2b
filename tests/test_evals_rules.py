"""The candidate rules and the sampler's choice, on plain values (no database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from obs.evals.rules import RULES, PoolCall, RuleError, Settings, feature_p95, parse_since, pick, reasons_for

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WEEK = Settings(start=NOW - timedelta(days=7), end=NOW)


def call(i: int, **fields: object) -> PoolCall:
    return PoolCall(id=f"c{i:03d}", ts=NOW - timedelta(minutes=i), **fields)  # type: ignore[arg-type]


def rules_of(c: PoolCall, settings: Settings = WEEK, p95: dict[str | None, float] | None = None) -> list[str]:
    return [r.rule for r in reasons_for(c, settings, p95 or {})]


def test_each_rule_matches_its_own_kind_of_bad_call() -> None:
    assert rules_of(call(1, user_feedback="thumbs_down")) == ["thumbs_down"]
    assert rules_of(call(2, status="error", error_type="RateLimitError")) == ["error"]
    assert rules_of(call(3, is_refusal=True)) == ["refusal"]
    assert rules_of(call(4, latency_ms=5001)) == ["slow"]
    assert rules_of(call(5, cost_usd=0.11)) == ["expensive"]


def test_an_ordinary_call_matches_no_rule() -> None:
    ordinary = call(1, latency_ms=5000, cost_usd=0.10, user_feedback="thumbs_up")
    assert rules_of(ordinary) == []


def test_slow_also_means_above_its_features_p95() -> None:
    p95 = {"search": 800.0, None: 3000.0}
    assert rules_of(call(1, feature="search", latency_ms=900), p95=p95) == ["slow"]
    assert rules_of(call(2, feature="search", latency_ms=700), p95=p95) == []
    assert rules_of(call(3, feature=None, latency_ms=3100), p95=p95) == ["slow"]
    only_threshold = Settings(start=WEEK.start, end=WEEK.end, slow_above_feature_p95=False)
    assert rules_of(call(1, feature="search", latency_ms=900), only_threshold, p95) == []


def test_reasons_say_why_with_the_numbers() -> None:
    reasons = reasons_for(call(1, feature="search", latency_ms=9000, cost_usd=0.5), WEEK, {"search": 800.0})
    details = {r.rule: r.detail for r in reasons}
    assert details["slow"] == "9,000 ms > 5,000 ms; 9,000 ms > p95 800 ms of search"
    assert details["expensive"] == "$0.5000 > $0.1000"


def test_switched_off_rules_and_thresholds_match_nothing() -> None:
    settings = Settings(start=WEEK.start, end=WEEK.end, rules=("error",), expensive_usd=None)
    assert rules_of(call(1, is_refusal=True, cost_usd=9.0, latency_ms=99_000), settings) == []


def test_p95_is_used_only_for_features_with_enough_timed_calls() -> None:
    rows = [{"feature": "a", "p95": 100.0, "calls": 20}, {"feature": "b", "p95": 50.0, "calls": 19},
            {"feature": None, "p95": 70.0, "calls": 40}, {"feature": "c", "p95": float("nan"), "calls": 0}]  # fmt: skip
    assert feature_p95(rows, min_calls=20) == {"a": 100.0, None: 70.0}


def test_pool_floor_is_the_loosest_slow_threshold() -> None:
    assert WEEK.slow_floor({"a": 900.0, "b": 7000.0}) == 900
    assert WEEK.slow_floor({}) == 5000
    assert Settings(start=WEEK.start, end=WEEK.end, rules=("error",)).slow_floor({"a": 1.0}) is None


def test_sample_takes_at_most_n_per_rule_and_each_call_once() -> None:
    calls = [call(i, user_feedback="thumbs_down", is_refusal=i % 2 == 0, latency_ms=6000 if i % 3 == 0 else 100)
             for i in range(200)]  # fmt: skip
    settings = Settings(start=WEEK.start, end=WEEK.end, per_rule=10, seed=4)
    picks = pick(calls, settings, {})
    ids = [p.call_id for p in picks]
    assert len(ids) == len(set(ids)) == 30  # thumbs-down, refusal and slow take 10 each; no errors, none expensive
    assert Counter(p.picked_by for p in picks) == {"thumbs_down": 10, "refusal": 10, "slow": 10}
    by_id = {c.id: c for c in calls}
    for p in picks:
        assert p.picked_by in [r.rule for r in p.reasons]
        assert [r.rule for r in p.reasons] == rules_of(by_id[p.call_id])


def test_a_rule_with_fewer_matches_than_n_takes_them_all() -> None:
    calls = [call(i, status="error") for i in range(3)] + [call(10 + i) for i in range(50)]
    picks = pick(calls, Settings(start=WEEK.start, end=WEEK.end, per_rule=50), {})
    assert sorted(p.call_id for p in picks) == ["c000", "c001", "c002"]


def test_the_same_seed_gives_the_same_sample_and_another_seed_another() -> None:
    calls = [call(i, user_feedback="thumbs_down") for i in range(100)]
    first = pick(calls, Settings(start=WEEK.start, end=WEEK.end, per_rule=5, seed=1), {})
    again = pick(calls, Settings(start=WEEK.start, end=WEEK.end, per_rule=5, seed=1), {})
    other = pick(calls, Settings(start=WEEK.start, end=WEEK.end, per_rule=5, seed=2), {})
    assert first == again and {p.call_id for p in first} != {p.call_id for p in other}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", NOW - timedelta(days=7)), ("24h", NOW - timedelta(hours=24)), ("90m", NOW - timedelta(minutes=90)),
     ("2w", NOW - timedelta(weeks=2)), ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC))],
)  # fmt: skip
def test_since_takes_durations_and_dates(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_bad_settings_are_one_clear_error() -> None:
    with pytest.raises(RuleError, match="expected a duration like 24h"):
        parse_since("last week", NOW)
    with pytest.raises(RuleError, match="unknown rule"):
        Settings(start=WEEK.start, end=WEEK.end, rules=("slow", "boring"))
    with pytest.raises(RuleError, match="window is empty"):
        Settings(start=NOW, end=NOW)
    assert set(RULES) == {"thumbs_down", "error", "refusal", "slow", "expensive"}
