"""``obs demo``: fill a store with realistic traffic through the real SDK, offline, in seconds.

The past is backfilled on a virtual clock (the demo provider advances it instead of sleeping), so the calls go
through exactly the path a real app's calls take: ``obs.wrap`` -> recorder -> pricing -> store. Then a batch of
live questions runs against the demo provider in real time.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import openai

import obs
from obs import clock, config, db
from obs.alerts import engine as alert_engine
from obs.clock import VirtualClock
from obs.demo import app as demo_app
from obs.demo.app import DemoApp
from obs.demo.provider import DemoProvider
from obs.store import Store, StoreStats

#: LLM calls per flow, a little under the real average (~1.9), so a demo makes at least the calls asked for.
CALLS_PER_FLOW = 1.8
LIVE_WORKERS = 8


@dataclass(frozen=True)
class DemoSummary:
    calls_made: int
    live_questions: int
    store: StoreStats
    database_url: str
    #: What the default alert rules found once the demo traffic was in (the planted regressions).
    alerts: tuple[str, ...] = ()


def flow_times(start: datetime, end: datetime, n: int, rng: random.Random) -> list[datetime]:
    """``n`` moments between start and end: office hours busier, weekends quieter, traffic growing."""
    span = (end - start).total_seconds()
    out: list[datetime] = []
    while len(out) < n:
        when = start + timedelta(seconds=rng.random() * span)
        weight = 1.0 if 8 <= when.hour < 19 else 0.25
        weight *= 0.4 if when.weekday() >= 5 else 1.0
        weight *= 0.6 + 0.4 * ((when - start).total_seconds() / span)
        if rng.random() < weight:
            out.append(when)
    return sorted(out)


def run_demo(
    *,
    database_url: str | None = None,
    days: int = 30,
    calls: int = 3000,
    live: int = 30,
    reset: bool = False,
    seed: int | None = None,
    live_speed: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Backfill ``calls`` calls over the last ``days`` days, then ask ``live`` questions in real time
    (``live_speed`` scales the demo provider's real latency: 1.0 is realistic, tests use less)."""
    url = config.normalize_database_url(database_url) if database_url else config.database_url()
    store = Store(url)
    if reset:
        store.reset()
    obs.configure(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    live_start = now - timedelta(minutes=10)
    virtual = VirtualClock(now - timedelta(days=days))
    made = 0
    clock.use(virtual)
    try:
        with DemoProvider(clock=virtual) as provider:
            app = DemoApp(_client(provider.url), rng)
            n = int(calls / CALLS_PER_FLOW) + 1
            moments: list[tuple[datetime, str | None]] = [
                (when, None) for when in flow_times(now - timedelta(days=days), live_start, n, rng)
            ]
            moments += [(when, demo_app.UNHAPPY_USER) for when in _unhappy_streak(now, rng)]
            for when, user in sorted(moments, key=lambda m: m[0]):  # all of them: the last day matters most
                virtual.set(when)
                _one_flow(app, rng, when, now, user)
                if progress:
                    progress(provider.requests - made)
                made = provider.requests
    finally:
        clock.use(None)
    with DemoProvider(speed=live_speed) as provider:
        app = DemoApp(_client(provider.url), rng)
        users = rng.choices(demo_app.USERS, k=live)
        with ThreadPoolExecutor(LIVE_WORKERS) as pool:
            for _ in pool.map(lambda u: _live_question(app, u, rng), users):
                pass
        made += provider.requests
    obs.flush(60)
    report = alert_engine.check(store, webhooks=[])  # the demo never notifies a user's real webhooks
    return DemoSummary(
        calls_made=made,
        live_questions=live,
        store=store.stats(),
        database_url=db.display_url(url),
        alerts=tuple(report.opened + report.still_firing + report.reopened),
    )


def _client(base_url: str) -> openai.OpenAI:
    # No retries: a planted 429 is recorded as the error a user would see.
    return openai.OpenAI(base_url=base_url, api_key="demo-provider-needs-no-key", max_retries=0)


def _unhappy_streak(now: datetime, rng: random.Random) -> list[datetime]:
    """The unhappy user's questions of the last three days (each gets a thumbs-down)."""
    return [now - timedelta(days=2.5) + timedelta(hours=9 * i + rng.random()) for i in range(6)]


def _tenant(user: str) -> str:
    return user.split("-", 1)[0]


def _one_flow(app: DemoApp, rng: random.Random, when: datetime, now: datetime, user: str | None) -> None:
    if user is None:
        user = demo_app.BIG_SPENDER if rng.random() < 0.06 else rng.choice(demo_app.USERS)
    tenant = _tenant(user)
    kind = rng.choices(["help", "triage", "summary"], [6, 2.5, 1.5])[0]
    try:
        if kind == "help" or user in (demo_app.UNHAPPY_USER, demo_app.BIG_SPENDER):
            app.help_answer(user, tenant, rng.choice(demo_app.QUESTIONS), when, now)
        elif kind == "triage":
            app.ticket_triage(user, tenant, rng.choice(demo_app.TICKETS))
        else:
            app.thread_summary(user, tenant, rng.choice(demo_app.THREADS), when, now)
    except openai.APIError:
        pass  # the app shows its user an error; obs has recorded the failed call


def _live_question(app: DemoApp, user: str, rng: random.Random) -> None:
    now = datetime.now(UTC)
    with contextlib.suppress(openai.APIError):  # recorded by obs; the app shows its user an error
        app.help_answer(user, _tenant(user), rng.choice(demo_app.QUESTIONS), now, now)
