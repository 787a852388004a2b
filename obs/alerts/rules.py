"""What an alert rule is: its kinds and scopes, what each kind needs, its windows, and the rules a store starts with.

Pure values, no I/O. What a rule finds in the numbers of its window is ``findings``; ``engine`` keeps the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Kind = Literal["latency_p95", "refusal_jump", "error_rate", "cost_budget", "feedback_streak", "unpriced_model"]

#: What each kind can be grouped by (the first is the default).
SCOPES: dict[str, tuple[str, ...]] = {
    "latency_p95": ("feature_model", "feature"),
    "refusal_jump": ("feature_model_prompt",),
    "error_rate": ("feature", "model", "feature_model"),
    "cost_budget": ("user", "tenant", "feature"),
    "feedback_streak": ("user",),
    "unpriced_model": ("model",),
}
#: The columns a scope groups by (names of llm_calls columns, also the calls page's URL filters).
SCOPE_COLUMNS: dict[str, tuple[str, ...]] = {
    "feature": ("feature",),
    "model": ("model",),
    "feature_model": ("feature", "model"),
    "feature_model_prompt": ("feature", "model", "prompt_version"),
    "user": ("user_id",),
    "tenant": ("tenant_id",),
}
KIND_HELP = {
    "latency_p95": "p95 latency above `factor` x the same hours one week earlier",
    "refusal_jump": "refusal rate of a model + prompt version above `factor` x that model's rate the week before",
    "error_rate": "share of calls that failed above `threshold` (0-1)",
    "cost_budget": "spend in the window above `threshold` dollars, or above `factor` x the median subject's spend",
    "feedback_streak": "a user's last `threshold` feedbacks all thumbs-down",
    "unpriced_model": "calls of a model that cannot be priced (cost unknown, not $0)",
}
#: Baselines are the same window one week earlier ("the previous week, same hours").
BASELINE_SHIFT = timedelta(days=7)


@dataclass(frozen=True)
class Rule:
    """One alert rule. ``min_volume``: calls (or feedbacks) needed before it may fire; ``cooldown_minutes``: a
    resolved alert that fires again within this time is reopened quietly instead of notified again."""

    name: str
    kind: Kind
    scope: str
    window_minutes: int
    threshold: float | None = None
    factor: float | None = None
    min_volume: int = 20
    cooldown_minutes: int = 360
    enabled: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPES:
            raise ValueError(f"unknown rule kind {self.kind!r}; one of {', '.join(SCOPES)}")
        if self.scope not in SCOPES[self.kind]:
            raise ValueError(f"{self.kind} rules group by {' or '.join(SCOPES[self.kind])}, not {self.scope!r}")
        if self.window_minutes <= 0 or self.min_volume < 0 or self.cooldown_minutes < 0:
            raise ValueError("window must be positive; minimum volume and cooldown must not be negative")
        needs = {
            "latency_p95": "factor",
            "refusal_jump": "factor",
            "error_rate": "threshold",
            "feedback_streak": "threshold",
        }.get(self.kind)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"a {self.kind} rule needs a {needs}")
        if self.kind == "cost_budget" and self.threshold is None and self.factor is None:
            raise ValueError("a cost_budget rule needs a threshold (dollars) or a factor (x the median)")

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


DEFAULT_RULES = (
    Rule(
        "Latency p95 up against last week",
        "latency_p95",
        "feature_model",
        window_minutes=3 * 24 * 60,
        factor=1.5,
        min_volume=20,
        cooldown_minutes=6 * 60,
    ),
    Rule(
        "Refusal rate jump for a model and prompt version",
        "refusal_jump",
        "feature_model_prompt",
        window_minutes=7 * 24 * 60,
        factor=3.0,
        min_volume=20,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Error rate of a feature",
        "error_rate",
        "feature",
        window_minutes=60,
        threshold=0.2,
        min_volume=20,
        cooldown_minutes=60,
    ),
    Rule(
        "User spending far above the others",
        "cost_budget",
        "user",
        window_minutes=24 * 60,
        factor=10.0,
        min_volume=3,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Daily budget per feature ($100)",
        "cost_budget",
        "feature",
        window_minutes=24 * 60,
        threshold=100.0,
        min_volume=1,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Daily budget per tenant ($250)",
        "cost_budget",
        "tenant",
        window_minutes=24 * 60,
        threshold=250.0,
        min_volume=1,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Unhappy user: thumbs-down in a row",
        "feedback_streak",
        "user",
        window_minutes=7 * 24 * 60,
        threshold=5,
        min_volume=5,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Calls of a model that cannot be priced",
        "unpriced_model",
        "model",
        window_minutes=7 * 24 * 60,
        min_volume=1,
        cooldown_minutes=24 * 60,
    ),
)


def windows(rule: Rule, at: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The rule's window ending at ``at`` and its baseline: the same hours one week earlier, or for a window
    of a week or more, the window just before it."""
    start = at - rule.window
    shift = max(BASELINE_SHIFT, rule.window)
    return (start, at), (start - shift, at - shift)
