"""Which calls should become eval cases: the candidate rules and the sampler's choice, as pure code.

The store hands over the calls of a window that some rule may match (``sql/eval_sample_pool.sql``) and the p95
latency of each feature (``sql/feature_latency_p95``); everything here decides, on plain values, which rules a
call matches, why, and which calls a sample takes (at most ``per_rule`` random calls per rule).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from obs import config
from obs.errors import UserError

#: The rules, in the order a sample applies them (and reasons are listed).
RULES = ("thumbs_down", "error", "refusal", "slow", "expensive")
RULE_LABELS = {
    "thumbs_down": "thumbs-down",
    "error": "error",
    "refusal": "refusal",
    "slow": "slow",
    "expensive": "expensive",
    "manual": "picked by hand",
}


class RuleError(UserError, ValueError):
    """A sampling setting a person can fix (the message is one clear line)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a call surfaced: the rule and the numbers that made it match."""

    rule: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}

    @classmethod
    def from_json(cls, value: Any) -> Reason:
        if isinstance(value, Mapping):
            return cls(str(value.get("rule", "")), str(value.get("detail") or ""))
        return cls(str(value))

    def __str__(self) -> str:
        label = RULE_LABELS.get(self.rule, self.rule)
        return f"{label}: {self.detail}" if self.detail else label


@dataclass(frozen=True, slots=True)
class Settings:
    """What a sample looks at (window and free filters) and how each rule is tuned; None switches a part off."""

    start: datetime
    end: datetime
    per_rule: int = config.EVAL_SAMPLE_PER_RULE
    rules: tuple[str, ...] = RULES
    slow_ms: int | None = config.EVAL_SLOW_MS
    slow_above_feature_p95: bool = True
    p95_min_calls: int = config.EVAL_P95_MIN_CALLS
    expensive_usd: float | None = config.EVAL_EXPENSIVE_USD
    feature: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    tenant_id: str | None = None
    #: Text searched (case-insensitively) in the messages and the answer.
    text: str | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rules) - set(RULES))
        if unknown:
            raise RuleError(f"unknown rule(s) {', '.join(unknown)}; rules are {', '.join(RULES)}")
        if self.per_rule < 1:
            raise RuleError(f"per_rule must be at least 1, got {self.per_rule}")
        if self.start >= self.end:
            raise RuleError(f"the window is empty: {self.start:%Y-%m-%d %H:%M} is not before {self.end:%Y-%m-%d %H:%M}")

    def pool_params(self, p95: Mapping[str | None, float]) -> dict[str, Any]:
        """Parameters of sql/eval_sample_pool: the window, the free filters and the loosest thresholds."""
        return {
            "start": self.start,
            "end": self.end,
            "feature": self.feature,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "tenant_id": self.tenant_id,
            "text": f"%{self.text.lower()}%" if self.text else None,
            "thumbs_down": int("thumbs_down" in self.rules),
            "errors": int("error" in self.rules),
            "refusals": int("refusal" in self.rules),
            "slow_floor_ms": self.slow_floor(p95),
            "expensive_usd": self.expensive_usd if "expensive" in self.rules else None,
        }

    def slow_floor(self, p95: Mapping[str | None, float]) -> int | None:
        """The lowest latency the slow rule could match (so the pool query scans only what may match)."""
        if "slow" not in self.rules:
            return None
        floors = [float(self.slow_ms)] if self.slow_ms is not None else []
        if self.slow_above_feature_p95:
            floors += list(p95.values())
        return int(min(floors)) if floors else None


@dataclass(frozen=True, slots=True)
class PoolCall:
    """A call's metadata as the pool query returns it (what the rules look at)."""

    id: str
    ts: datetime
    feature: str | None = None
    latency_ms: float | None = None
    cost_usd: float | Decimal | None = None
    is_refusal: bool = False
    status: str = "ok"
    error_type: str | None = None
    user_feedback: str | None = None


@dataclass(frozen=True, slots=True)
class Pick:
    """A call the sample takes: the rule whose share took it, and every rule it matches."""

    call_id: str
    picked_by: str
    reasons: tuple[Reason, ...] = field(default=())


def feature_p95(rows: Iterable[Mapping[Any, Any]], min_calls: int) -> dict[str | None, float]:
    """p95 latency per feature from sql/feature_latency_p95 rows, for features with enough timed calls."""
    out: dict[str | None, float] = {}
    for row in rows:
        p95, calls = row.get("p95"), row.get("calls") or 0
        if p95 is not None and p95 == p95 and int(calls) >= min_calls:  # p95 == p95: not NaN
            out[_none(row.get("feature"))] = float(p95)
    return out


def reasons_for(call: PoolCall, settings: Settings, p95: Mapping[str | None, float]) -> tuple[Reason, ...]:
    """Every rule of ``settings`` that ``call`` matches, with the numbers that made it match."""
    found: list[Reason] = []
    for rule in settings.rules:
        reason = _match(rule, call, settings, p95)
        if reason is not None:
            found.append(reason)
    return tuple(found)


def _match(rule: str, call: PoolCall, settings: Settings, p95: Mapping[str | None, float]) -> Reason | None:
    if rule == "thumbs_down" and call.user_feedback == "thumbs_down":
        return Reason(rule, "the latest feedback on this call is thumbs-down")
    if rule == "error" and call.status == "error":
        return Reason(rule, call.error_type or "the call failed")
    if rule == "refusal" and call.is_refusal:
        return Reason(rule, "the answer reads as a refusal")
    if rule == "slow" and call.latency_ms is not None:
        return _slow(call, settings, p95)
    limit = settings.expensive_usd
    if rule == "expensive" and call.cost_usd is not None and limit is not None and float(call.cost_usd) > limit:
        return Reason(rule, f"${float(call.cost_usd):.4f} > ${limit:.4f}")
    return None


def _slow(call: PoolCall, settings: Settings, p95: Mapping[str | None, float]) -> Reason | None:
    latency = float(call.latency_ms or 0)
    parts = []
    if settings.slow_ms is not None and latency > settings.slow_ms:
        parts.append(f"{latency:,.0f} ms > {settings.slow_ms:,} ms")
    limit = p95.get(call.feature) if settings.slow_above_feature_p95 else None
    if limit is not None and latency > limit:
        parts.append(f"{latency:,.0f} ms > p95 {limit:,.0f} ms of {call.feature or '(no feature)'}")
    return Reason("slow", "; ".join(parts)) if parts else None


def pick(calls: Sequence[PoolCall], settings: Settings, p95: Mapping[str | None, float]) -> list[Pick]:
    """At most ``per_rule`` random calls per rule, each call once, with every rule it matches as its reasons.

    Rules take their turn in ``settings.rules`` order; a call already taken by an earlier rule does not use up
    a later rule's share. Same calls and same seed, same sample.
    """
    rng = random.Random(settings.seed)
    matched = [(call, reasons_for(call, settings, p95)) for call in calls]
    taken: dict[str, Pick] = {}
    for rule in settings.rules:
        eligible = [(c, r) for c, r in matched if c.id not in taken and any(x.rule == rule for x in r)]
        for call, reasons in rng.sample(eligible, min(settings.per_rule, len(eligible))):
            taken[call.id] = Pick(call.id, rule, reasons)
    return list(taken.values())


DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
UNITS = {"m": timedelta(minutes=1), "min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1)}  # fmt: skip


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a window: a duration back from ``now`` (``90m``, ``24h``, ``7d``, ``2w``) or a UTC date."""
    match = DURATION.match(text)
    if match:
        return now - int(match.group(1)) * UNITS[match.group(2).lower()]
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RuleError(f"--since {text!r}: expected a duration like 24h, 7d, 2w or a date like 2026-11-01") from None
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value
