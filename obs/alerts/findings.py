"""What an alert rule finds: given the numbers sql/ returns for a window (and its baseline), what fires.

No I/O here. ``engine`` runs the queries, calls ``evaluate`` and keeps the events; tests feed rows directly.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from obs.alerts.rules import SCOPE_COLUMNS, Rule, duration_text, threshold_text

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """A rule firing for one subject at one check."""

    rule_id: int
    subject: Mapping[str, str | None]
    value: float
    baseline: float | None
    volume: int
    message: str
    #: Extra conditions for the calls page (status=error, refusals=1, ...), besides the subject's filters.
    conditions: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return subject_key(self.subject)


def subject_key(subject: Mapping[str, Any]) -> str:
    """A stable text key for a subject: ``feature=help_answer|model=gpt-4.1``."""
    return "|".join(f"{k}={'' if v is None else v}" for k, v in sorted(subject.items()))


def evaluate(rule: Rule, now: Sequence[Row], baseline: Sequence[Row] = ()) -> list[Finding]:
    """What ``rule`` finds in the rows of its window (and, for ratio rules, of its baseline window)."""
    if not rule.enabled:
        return []
    return _EVALUATORS[rule.kind](rule, now, baseline)


def _latency(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    columns = SCOPE_COLUMNS[rule.scope]
    before = {_subject(row, columns): row for row in baseline}
    factor = float(rule.factor or 0)
    out = []
    for row in now:
        subject = _subject(row, columns)
        old = before.get(subject)
        if old is None or _num(row["calls"]) < rule.min_volume or _num(old["calls"]) < rule.min_volume:
            continue
        p95, p95_before = _num(row["p95"]), _num(old["p95"])
        if p95_before > 0 and p95 > factor * p95_before:
            out.append(
                Finding(
                    _rule_id(rule),
                    dict(subject),
                    p95,
                    p95_before,
                    int(row["calls"]),
                    f"{_name(subject)}: p95 latency {p95 / 1000:,.2f} s, {p95 / p95_before:.1f}x the "
                    f"{p95_before / 1000:,.2f} s of the same hours a week ago ({int(row['calls'])} calls)",
                )
            )
    return out


def _refusal(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    """The rate of (feature, model, prompt version) against the same feature and model the week before
    (a new prompt version has no history of its own). Laplace-smoothed, so a clean week is not a 0 divisor. The
    jump must hold beyond chance: the window's rate is taken at the low end of its likely range (a Wilson
    bound), so 11 refusals in 30 calls against a 11 % week does not fire, 30 in 34 against 20 % does."""
    before: dict[tuple[Any, Any], list[int]] = defaultdict(lambda: [0, 0])
    for row in baseline:
        totals = before[(row["feature"], row["model"])]
        totals[0] += int(_num(row["refusals"]))
        totals[1] += int(_num(row["calls"]))
    factor = float(rule.factor or 0)
    out = []
    for row in now:
        calls, refusals = int(_num(row["calls"])), int(_num(row["refusals"]))
        old_refusals, old_calls = before.get((row["feature"], row["model"]), (0, 0))
        if calls < rule.min_volume or old_calls < rule.min_volume or not refusals:
            continue
        rate, old_rate = refusals / calls, (old_refusals + 1) / (old_calls + 2)
        if wilson_low(refusals, calls) > factor * old_rate:
            subject = _subject(row, SCOPE_COLUMNS[rule.scope])
            out.append(
                Finding(
                    _rule_id(rule),
                    dict(subject),
                    rate,
                    old_refusals / old_calls,
                    calls,
                    f"{_name(subject)}: refusal rate {rate:.0%} ({refusals} of {calls} calls), "
                    f"{rate / old_rate:.0f}x this model's {old_refusals / old_calls:.1%} on this feature a week before",
                    {"refusals": "1"},
                )
            )
    return out


def _error_rate(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    out = []
    for subject, (calls, errors) in _totals(now, SCOPE_COLUMNS[rule.scope], ("calls", "errors")).items():
        rate = errors / calls if calls else 0.0
        if calls >= rule.min_volume and rate > float(rule.threshold or 0):
            out.append(
                Finding(
                    _rule_id(rule),
                    dict(subject),
                    rate,
                    rule.threshold,
                    int(calls),
                    f"{_name(subject)}: {rate * 100:.3g}% of {int(calls)} calls failed "
                    f"(threshold {threshold_text(rule.kind, rule.threshold)})",
                    {"status": "error"},
                )
            )
    return out


def _cost(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    scope_rows = [r for r in now if r["scope"] == rule.scope and r["subject"] is not None]
    spends = [_num(r["spend"]) for r in scope_rows]
    median = statistics.median(spends) if spends else 0.0
    limits = [x for x in (rule.threshold, (rule.factor * median) if rule.factor and median > 0 else None) if x]
    if not limits:
        return []
    limit = max(limits)  # with both set, a subject must exceed both the budget and the usual spend
    column = SCOPE_COLUMNS[rule.scope][0]
    out = []
    for row in scope_rows:
        spend = _num(row["spend"])
        if int(_num(row["calls"])) >= rule.min_volume and spend > limit:
            subject = {column: str(row["subject"])}
            why = (
                f"{spend / median:.0f}x the median {rule.scope}'s ${median:,.4f}"
                if limit != rule.threshold
                else f"budget ${rule.threshold:,.2f}"
            )
            out.append(
                Finding(
                    _rule_id(rule),
                    subject,
                    spend,
                    limit,
                    int(_num(row["calls"])),
                    f"{_name(subject)}: ${spend:,.4f} spent in {_span(rule.window)} ({why})",
                )
            )
    return out


def _streak(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    """Rows: (user_id, ts, value) in time order per user; the streak is the run of thumbs-down at the end."""
    runs: dict[str, int] = {}
    for row in now:
        user = row["user_id"]
        runs[user] = runs.get(user, 0) + 1 if row["value"] == "thumbs_down" else 0
    needed = max(int(rule.threshold or 0), rule.min_volume, 1)
    return [
        Finding(
            _rule_id(rule),
            {"user_id": user},
            run,
            None,
            run,
            f"user {user}: {run} thumbs-down in a row",
            {"feedback": "thumbs_down"},
        )
        for user, run in runs.items()
        if run >= needed
    ]


def _unpriced(rule: Rule, now: Sequence[Row], baseline: Sequence[Row]) -> list[Finding]:
    out = []
    for subject, (unpriced,) in _totals(now, ("model",), ("unpriced",)).items():
        if unpriced >= max(rule.min_volume, 1):
            out.append(
                Finding(
                    _rule_id(rule),
                    dict(subject),
                    unpriced,
                    None,
                    int(unpriced),
                    f"{_name(subject)}: {int(unpriced)} calls without a price (add it to OBS_PRICES_FILE, then "
                    "`obs recost`)",
                    {"unpriced": "1"},
                )
            )
    return out


_EVALUATORS = {
    "latency_p95": _latency,
    "refusal_jump": _refusal,
    "error_rate": _error_rate,
    "cost_budget": _cost,
    "feedback_streak": _streak,
    "unpriced_model": _unpriced,
}


# --- helpers ------------------------------------------------------------------------------------------


#: How far below a rate's estimate its low end is taken (one standard error: a jump that chance makes once in six).
WILSON_Z = 1.0


def wilson_low(hits: int, total: int, z: float = WILSON_Z) -> float:
    """The low end of the Wilson score interval of ``hits`` in ``total``: a rate that few calls make unsure counts
    for less than the same rate over many."""
    if total <= 0:
        return 0.0
    p, z2 = hits / total, z * z
    centre = p + z2 / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z2 / total))


def _subject(row: Row, columns: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    return tuple((c, None if row[c] is None else str(row[c])) for c in columns)


def _totals(rows: Sequence[Row], columns: Sequence[str], measures: Sequence[str]) -> dict[Any, list[float]]:
    out: dict[Any, list[float]] = defaultdict(lambda: [0.0] * len(measures))
    for row in rows:
        totals = out[_subject(row, columns)]
        for i, measure in enumerate(measures):
            totals[i] += _num(row[measure])
    return out


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if number != number else number  # NaN (an empty SUM read by pandas) counts as 0


def _name(subject: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> str:
    items = subject.items() if isinstance(subject, Mapping) else subject
    labels = {"user_id": "user", "tenant_id": "tenant", "prompt_version": "prompt"}
    return ", ".join(f"{labels.get(k, k)} {v if v is not None else '(none)'}" for k, v in items)


def _rule_id(rule: Rule) -> int:
    return rule.id if rule.id is not None else -1


def _span(window: timedelta) -> str:
    return duration_text(int(window.total_seconds() // 60))
