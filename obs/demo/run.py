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

import anthropic
import openai

import obs
from obs import clock, config
from obs.alerts import engine as alert_engine
from obs.clock import VirtualClock
from obs.demo import app as demo_app
from obs.demo import schedule
from obs.demo.app import DemoApp
from obs.demo.provider import DemoProvider
from obs.store import db
from obs.store.store import Store, StoreStats

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
        with DemoProvider(clock=virtual, slow_spells=schedule.slow_spells(now, days)) as provider:
            app = _app(provider.url, rng)
            flows = schedule.plan(now, days, int(calls / CALLS_PER_FLOW) + 1, live_start, rng)
            for flow in flows:  # all of them: the last day matters most
                virtual.set(flow.when)
                _one_flow(app, rng, flow, now)
                if progress:
                    progress(provider.requests - made)
                made = provider.requests
    finally:
        clock.use(None)
    with DemoProvider(speed=live_speed) as provider:
        app = _app(provider.url, rng)
        models = schedule.Deck(schedule.MODELS["help"], rng)
        asks = [(user, models.deal()) for user in rng.choices(schedule.EVERYONE_ELSE, k=live)]
        with ThreadPoolExecutor(LIVE_WORKERS) as pool:
            for _ in pool.map(lambda ask: _live_question(app, ask[0], ask[1], rng), asks):
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


def _app(base_url: str, rng: random.Random) -> DemoApp:
    """The demo app on the demo provider, through the openai and the Anthropic SDK. No retries: a planted 429 is
    recorded as the error a user would see."""
    key = "demo-provider-needs-no-key"
    gpt = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
    claude = anthropic.Anthropic(base_url=base_url.removesuffix("/v1"), api_key=key, max_retries=0)
    return DemoApp(gpt, claude, rng)


#: What the app's user sees as an error (obs has recorded the failed call).
_API_ERRORS = (openai.APIError, anthropic.APIError)


def _one_flow(app: DemoApp, rng: random.Random, flow: schedule.Flow, now: datetime) -> None:
    user, tenant, when, model = flow.user, flow.tenant, flow.when, flow.model
    try:
        if flow.kind == "help":
            app.help_answer(user, tenant, rng.choice(demo_app.QUESTIONS), when, now, model)
        elif flow.kind == "triage":
            app.ticket_triage(user, tenant, rng.choice(demo_app.TICKETS), model)
        else:
            app.thread_summary(user, tenant, rng.choice(demo_app.THREADS), when, now, model)
    except _API_ERRORS:
        pass  # the app shows its user an error; obs has recorded the failed call


def _live_question(app: DemoApp, user: str, model: str, rng: random.Random) -> None:
    now = datetime.now(UTC)
    with contextlib.suppress(*_API_ERRORS):  # recorded by obs; the app shows its user an error
        app.help_answer(user, schedule.tenant_of(user), rng.choice(demo_app.QUESTIONS), now, now, model)
