"""When the demo's users ask what, and of which model: a pure plan of flows, made before any call is sent.

The planted regressions must be found by the default alert rules on any date and at any hour the demo runs, so
their volume cannot be left to chance or to the calendar:

* background traffic follows office hours, quiet weekends and growth, but its times are stratified (flow ``i`` of
  ``n`` falls in the ``i``-th ``1/n`` of the weighted time line), so every window holds its expected share of it;
* feature kinds and models are dealt from shuffled decks, so every stretch of flows holds its share of each model;
* the stories the alerts look for have steady streams of their own, around the clock: the big spender asks every
  ``BIG_SPENDER_EVERY`` (at least 3 calls in any day, too few of them to make a refusal or latency rate of their
  own), and acme's Slack bot (launched ``SLACKBOT_DAYS`` ago, pinned to gpt-4.1, no user id) forwards a question
  every ``SLACKBOT_EVERY``, so the latency rule's window and its week-before baseline each hold enough gpt-4.1
  answers even when the baseline is a weekend night;
* the unhappy user's last questions are planted too (each gets a thumbs-down);
* the provider's slow spell (every answer 6x slower for ``SLOW_SPELL`` hours) lies ``SLOW_SPELL_AGO`` back, before
  the windows the latency rule compares, so it shows on the charts without tripping or masking an alert.

``tests/test_demo_schedule.py`` checks the volumes against the default rules for many "now"s.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Literal, TypeVar

from obs.demo.app import BIG_SPENDER, SLACKBOT_TENANT, UNHAPPY_USER, USERS

Kind = Literal["help", "triage", "summary"]
T = TypeVar("T")

#: Background traffic: the share of each feature, and of each model within a feature (decks, not dice).
KINDS: dict[Kind, int] = {"help": 12, "triage": 5, "summary": 3}
MODELS: Mapping[Kind, Mapping[str, int]] = {
    "help": {"gpt-5-mini": 6, "gpt-4.1": 3, "claude-haiku-4-5": 3},
    "triage": {"claude-haiku-4-5": 5, "gpt-5-mini": 3, "flowdesk-tuned-1": 1},
    "summary": {"gpt-5-mini": 6, "gpt-4.1": 3, "claude-haiku-4-5": 3},
}
#: The big spender's model: the most expensive one, with whole documents pasted into every question.
BIG_SPENDER_MODEL = "claude-opus-4-1"
#: At most this far apart (so any 24 hours hold 3 of their questions), at least 5/6 of it.
BIG_SPENDER_EVERY = timedelta(hours=8)
SLACKBOT_MODEL = "gpt-4.1"
SLACKBOT_EVERY = timedelta(hours=3)
SLACKBOT_DAYS = 16
SLOW_SPELL_AGO = timedelta(days=12)
SLOW_SPELL = timedelta(hours=3)
#: The unhappy user's questions of the last days (each gets a thumbs-down): a few more than the rule's streak
#: of 5, so an answer that fails on purpose (a planted 429) cannot break it.
UNHAPPY_QUESTIONS = 8
#: Planted streams take at most this share of the flows; a small demo thins them out.
PLANTED_SHARE_MAX = 0.35


@dataclass(frozen=True)
class Flow:
    """One user action: a help question (2 calls), a ticket triage (2) or a streamed summary (1)."""

    when: datetime
    user: str | None
    tenant: str
    kind: Kind
    model: str


class Deck(Generic[T]):
    """Items dealt from a shuffled deck holding each ``counts[item]`` times, reshuffled when empty: every run of
    ``sum(counts)`` deals holds each item about its share, unlike independent draws."""

    def __init__(self, counts: Mapping[T, int], rng: random.Random) -> None:
        self._cards = [item for item, count in counts.items() for _ in range(count)]
        self._rng = rng
        self._left: list[T] = []

    def deal(self) -> T:
        if not self._left:
            self._left = self._cards[:]
            self._rng.shuffle(self._left)
        return self._left.pop()


def weight(when: datetime, start: datetime, end: datetime) -> float:
    """How busy the app is at ``when``: office hours busier, weekends quieter, traffic growing."""
    w = 1.0 if 8 <= when.hour < 19 else 0.25
    w *= 0.4 if when.weekday() >= 5 else 1.0
    return w * (0.6 + 0.4 * ((when - start) / (end - start)))


def flow_times(start: datetime, end: datetime, n: int, rng: random.Random) -> list[datetime]:
    """``n`` moments between start and end, distributed as ``weight`` says, stratified (see the module doc)."""
    if n <= 0 or end <= start:
        return []
    hours: list[datetime] = []
    cumulative: list[float] = []
    total = 0.0
    at = start
    while at < end:
        step = min(timedelta(hours=1), end - at)
        total += weight(at + step / 2, start, end) * (step / timedelta(hours=1))
        hours.append(at)
        cumulative.append(total)
        at += step
    out = []
    for i in range(n):
        target = (i + rng.random()) / n * total
        h = min(bisect.bisect_left(cumulative, target), len(hours) - 1)
        low = cumulative[h - 1] if h else 0.0
        step = min(timedelta(hours=1), end - hours[h])
        out.append(hours[h] + step * ((target - low) / (cumulative[h] - low)))
    return out


#: The mean gap between two moments of ``steady``, as a share of ``every``.
STEADY_MEAN = 11 / 12


def steady(start: datetime, end: datetime, every: timedelta, rng: random.Random) -> list[datetime]:
    """Moments from start to end between 5/6 of ``every`` and ``every`` apart (never more)."""
    out = []
    at = start + every * rng.random()
    while at < end:
        out.append(at)
        at += every * (5 / 6 + rng.random() / 6)
    return out


def plan(now: datetime, days: int, flows: int, live_start: datetime, rng: random.Random) -> list[Flow]:
    """About ``flows`` flows over the ``days`` before ``live_start``, in time order (see the module doc)."""
    start = now - timedelta(days=days)
    decks = {kind: Deck(models, rng) for kind, models in MODELS.items()}
    kinds = Deck(KINDS, rng)
    bot_start = max(start, now - timedelta(days=SLACKBOT_DAYS))
    # A small demo stretches the planted streams' intervals so that they stay a minority of its traffic.
    wanted = ((live_start - start) / BIG_SPENDER_EVERY + (live_start - bot_start) / SLACKBOT_EVERY) / STEADY_MEAN
    stretch = max(1.0, wanted / max(1.0, PLANTED_SHARE_MAX * flows))
    planted = [
        Flow(when, BIG_SPENDER, tenant_of(BIG_SPENDER), "help", BIG_SPENDER_MODEL)
        for when in steady(start, live_start, BIG_SPENDER_EVERY * stretch, rng)
    ]
    planted += [
        Flow(when, None, SLACKBOT_TENANT, "help", SLACKBOT_MODEL)
        for when in steady(bot_start, live_start, SLACKBOT_EVERY * stretch, rng)
    ]
    planted += [
        Flow(when, UNHAPPY_USER, tenant_of(UNHAPPY_USER), "help", decks["help"].deal())
        for when in unhappy_streak(now, rng)
    ]
    background = []
    for when in flow_times(start, live_start, max(0, flows - len(planted)), rng):
        user = rng.choice(EVERYONE_ELSE)
        kind = "help" if user == UNHAPPY_USER else kinds.deal()  # the unhappy user only ever asks questions
        background.append(Flow(when, user, tenant_of(user), kind, decks[kind].deal()))
    return sorted(planted + background, key=lambda f: f.when)


#: Who the background traffic (and the live questions) come from: the big spender's questions are all planted.
EVERYONE_ELSE = [user for user in USERS if user != BIG_SPENDER]


def slow_spells(now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """When the demo provider is slow (nothing if the demo's history does not reach back that far)."""
    start = now - SLOW_SPELL_AGO
    return [(start, start + SLOW_SPELL)] if timedelta(days=days) > SLOW_SPELL_AGO + SLOW_SPELL else []


def tenant_of(user: str) -> str:
    """``acme-user-03`` works for ``acme``."""
    return user.split("-", 1)[0]


def unhappy_streak(now: datetime, rng: random.Random) -> list[datetime]:
    """The unhappy user's questions of the last three days, the last one about half a day ago."""
    first = now - timedelta(days=2.5)
    return [first + timedelta(hours=7 * i + rng.random()) for i in range(UNHAPPY_QUESTIONS)]
