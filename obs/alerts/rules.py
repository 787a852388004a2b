"""What an alert rule is: its kinds and scopes, what each kind needs, its windows, and the rules a store starts with.

Pure values, no I/O. What a rule finds in the numbers of its window is ``findings``; ``engine`` keeps the rules.
"""

from __future__ import annotations

import re
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
#: What a kind's threshold is: a rate (shown and typed as %), dollars, or a count.
THRESHOLD_UNITS: dict[str, str] = {"error_rate": "%", "cost_budget": "$", "feedback_streak": "count"}
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
        "Daily budget per feature",
        "cost_budget",
        "feature",
        window_minutes=24 * 60,
        threshold=100.0,
        min_volume=1,
        cooldown_minutes=24 * 60,
    ),
    Rule(
        "Daily budget per tenant",
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


# --- rules as people read and type them ---------------------------------------------------------------

_UNITS = {"min": 1, "m": 1, "minute": 1, "h": 60, "hr": 60, "hour": 60, "d": 1440, "day": 1440, "w": 10080,
          "week": 10080}  # fmt: skip
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def duration_text(minutes: int) -> str:
    """A window or cooldown as people say it: "45 min", "1 hour", "24 hours", "7 days"."""
    if minutes >= 2 * 1440 and minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} days"
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} min"


def parse_duration(text: str, *, minimum: int = 1) -> int:
    """Minutes from "90", "90 min", "6 h", "24 hours", "7 days", "2w"; ValueError with the accepted forms."""
    found = _DURATION.match(str(text).lower())
    unit = found.group(2) if found else None
    if unit and unit not in _UNITS and unit.endswith("s") and unit[:-1] in _UNITS:
        unit = unit[:-1]  # "hours", "days", "mins"
    if found is None or unit not in {"", *_UNITS}:
        raise ValueError(f"{text!r} is no duration: write e.g. 45 min, 6 hours, 7 days (minutes when no unit)")
    minutes = round(float(found.group(1)) * _UNITS[unit or "min"])
    if minutes < minimum:
        raise ValueError(f"{text!r}: it must be at least {duration_text(minimum)}")
    return minutes


def threshold_text(kind: str, value: float | None) -> str:
    """A threshold in its kind's unit: "20%", "$100.00", "5"; "" for none."""
    if value is None or value != value:
        return ""
    unit = THRESHOLD_UNITS.get(kind)
    if unit == "%":
        return f"{value * 100:g}%"
    if unit == "$":
        return f"${value:,.2f}"
    return f"{value:g}"


def parse_threshold(kind: str, text: str | None) -> float | None:
    """A threshold typed in its kind's unit back to the stored value: "20%" or "20" is 0.2 for a rate, "$100"
    is 100; "" is none."""
    cleaned = str(text or "").strip().replace(",", "").removeprefix("$").removesuffix("%").strip()
    if not cleaned:
        return None
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is no number for a {kind} threshold ({_threshold_hint(kind)})") from None
    return number / 100 if THRESHOLD_UNITS.get(kind) == "%" else number


def factor_text(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:g}×"


def parse_factor(text: str | None) -> float | None:
    """A factor typed as "3", "3x" or "3×"; "" is none."""  # noqa: RUF002 (the sign it is shown with)
    cleaned = str(text or "").strip().lower().rstrip("x×").strip()
    if not cleaned:
        return None
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is no factor: write e.g. 1.5 or 3x") from None


def _threshold_hint(kind: str) -> str:
    unit = THRESHOLD_UNITS.get(kind)
    return {"%": "a percentage, e.g. 20%", "$": "dollars, e.g. $100"}.get(unit or "", "a count, e.g. 5")
