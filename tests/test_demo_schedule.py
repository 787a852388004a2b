"""The demo's plan holds, on any date and at any hour, the volumes the default alert rules need to find the
planted problems (and no more than they need to stay quiet elsewhere). Pure: no calls are made.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from obs.alerts.rules import DEFAULT_RULES, Rule, windows
from obs.demo import schedule
from obs.demo.app import BIG_SPENDER, UNHAPPY_USER, era
from obs.demo.run import CALLS_PER_FLOW

RULES = {rule.kind: rule for rule in DEFAULT_RULES}
#: Every 7 hours for three weeks (each weekday at many hours), and the last minutes of a few months.
NOWS = [datetime(2026, 11, 2, 0, 13, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(72)] + [
    datetime(2026, 11, 30, 23, 58, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 58, tzinfo=UTC),
    datetime(2027, 2, 28, 23, 58, tzinfo=UTC),
]
#: Margin over a rule's minimum volume: some calls fail on purpose (429, 500) and are still counted, but a
#: planted story must not hang on the last few.
MARGIN = 1.5


def plans(calls: int, seed: int) -> list[tuple[datetime, list[schedule.Flow]]]:
    flows = int(calls / CALLS_PER_FLOW) + 1
    return [(now, schedule.plan(now, 30, flows, now - timedelta(minutes=10), random.Random(seed))) for now in NOWS]


@pytest.fixture(scope="module", params=[(2500, 11), (2500, 5), (3000, 11)], ids=lambda p: f"{p[0]}calls-seed{p[1]}")
def planned(request: pytest.FixtureRequest) -> list[tuple[datetime, list[schedule.Flow]]]:
    return plans(*request.param)


def count(flows: list[schedule.Flow], start: datetime, end: datetime, match: Callable[[schedule.Flow], bool]) -> int:
    return sum(1 for f in flows if start <= f.when < end and match(f))


def answers(model: str, prompt: str | None = None, now: datetime | None = None) -> Callable[[schedule.Flow], bool]:
    """Help answers of ``model`` (with ``prompt`` version as the app picks it for ``now``)."""
    return lambda f: (
        f.kind == "help" and f.model == model and (prompt is None or era(f.when, now or f.when).answer_prompt == prompt)
    )


def need(rule: Rule) -> float:
    return rule.min_volume * MARGIN


def test_the_latency_rule_sees_enough_gpt41_answers_now_and_a_week_before(planned: list) -> None:
    rule = RULES["latency_p95"]
    for now, flows in planned:
        (start, end), (base_start, base_end) = windows(rule, now)
        assert count(flows, start, end, answers("gpt-4.1")) >= need(rule), now
        assert count(flows, base_start, base_end, answers("gpt-4.1")) >= need(rule), now


def test_the_refusal_rule_sees_enough_claude_answers_on_v3_and_the_week_before(planned: list) -> None:
    rule = RULES["refusal_jump"]
    for now, flows in planned:
        (start, end), (base_start, base_end) = windows(rule, now)
        assert count(flows, start, end, answers("claude-haiku-4-5", "v3", now)) >= need(rule), now
        assert count(flows, base_start, base_end, answers("claude-haiku-4-5")) >= need(rule), now


def test_the_big_spender_asks_in_every_day_but_too_rarely_for_rates_of_their_own(planned: list) -> None:
    spend, refusal, latency = RULES["cost_budget"], RULES["refusal_jump"], RULES["latency_p95"]
    for now, flows in planned:
        # Each question is 2 calls (rewrite + answer); 3 questions leave room for a failed rewrite.
        assert count(flows, now - spend.window, now, lambda f: f.user == BIG_SPENDER) >= max(3, spend.min_volume), now
        # Their claude-opus-4-1 answers never reach the volume at which a refusal or latency rate is judged
        # (a rate over a handful of calls would be noise, not a planted problem).
        (start, end), _ = windows(refusal, now)
        assert count(flows, start, end, answers(schedule.BIG_SPENDER_MODEL, "v3", now)) < refusal.min_volume, now
        (start, end), _ = windows(latency, now)
        assert count(flows, start, end, answers(schedule.BIG_SPENDER_MODEL)) < latency.min_volume, now


def test_the_unhappy_user_and_the_unpriced_model_are_always_there(planned: list) -> None:
    streak, unpriced = RULES["feedback_streak"], RULES["unpriced_model"]
    for now, flows in planned:
        unhappy = count(flows, now - timedelta(days=3), now, lambda f: f.user == UNHAPPY_USER)
        assert unhappy >= schedule.UNHAPPY_QUESTIONS >= (streak.threshold or 0) + 2, now
        tuned = count(flows, now - unpriced.window, now, lambda f: f.model == "flowdesk-tuned-1")
        assert tuned >= 3 * max(1, unpriced.min_volume), now


def test_the_plan_makes_about_the_calls_asked_for_in_a_realistic_mix() -> None:
    now = NOWS[0]
    flows = schedule.plan(now, 30, 1389, now - timedelta(minutes=10), random.Random(11))
    assert 1380 <= len(flows) <= 1400
    kinds = Counter(f.kind for f in flows)
    assert kinds["help"] > kinds["triage"] > kinds["summary"] > 100
    office = sum(1 for f in flows if 8 <= f.when.hour < 19 and f.when.weekday() < 5)
    assert office > len(flows) / 2  # busier in office hours, though the bot asks around the clock
    assert {f.model for f in flows} == {"gpt-5-mini", "gpt-4.1", "claude-haiku-4-5", "flowdesk-tuned-1",
                                        "claude-opus-4-1"}  # fmt: skip


def test_a_small_demo_keeps_the_planted_streams_a_minority() -> None:
    now = NOWS[0]
    flows = schedule.plan(now, 30, 167, now - timedelta(minutes=10), random.Random(3))
    planted = sum(1 for f in flows if f.user in (BIG_SPENDER, None))
    assert len(flows) == 167 and planted <= schedule.PLANTED_SHARE_MAX * 167 + 1


def test_the_slow_spell_lies_before_every_window_the_latency_rule_compares() -> None:
    rule = RULES["latency_p95"]
    now = NOWS[0]
    ((_, spell_end),) = schedule.slow_spells(now, 30)
    (start, _), (base_start, _) = windows(rule, now)
    assert spell_end < base_start < start
    assert schedule.slow_spells(now, 7) == []  # a week of history does not reach back to it
