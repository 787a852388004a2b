"""`obs alerts check`: evaluate every enabled rule, keep alert events, notify webhooks through an outbox.

One check: run the sql/ queries each rule needs (each query once per window), let ``findings.evaluate`` decide,
then in one transaction open, update or resolve events and queue a notification per webhook for each opened
or resolved one. Delivery runs after the commit; what fails stays queued for the next check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from obs import config
from obs.alerts import notify
from obs.alerts.findings import Finding, evaluate
from obs.alerts.rules import Rule, windows
from obs.store import sql
from obs.store.schema import alert_events, alert_notifications, alert_rules
from obs.store.store import Store

#: Calls page filters (its sidebar) and conditions (its URL) a subject column maps to.
_PAGE_FILTERS = ("feature", "model", "tenant_id", "user_id")
CALLS_PAGE_PATH = "Calls"


@dataclass(frozen=True)
class CheckReport:
    """What one check did."""

    at: datetime
    rules: int
    opened: list[str] = field(default_factory=list)
    still_firing: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    delivered: int = 0
    undelivered: list[str] = field(default_factory=list)

    @property
    def firing(self) -> int:
        return len(self.opened) + len(self.still_firing) + len(self.reopened)


# --- rules --------------------------------------------------------------------------------------------


def load_rules(store: Store) -> list[Rule]:
    """Every rule in the store, in creation order."""
    with store.control.connect() as connection:
        rows = connection.execute(sa.select(alert_rules).order_by(alert_rules.c.id)).mappings().all()
    return [_rule(row) for row in rows]


def _rule(row: Any) -> Rule:
    names = (
        "id",
        "name",
        "kind",
        "scope",
        "window_minutes",
        "threshold",
        "factor",
        "min_volume",
        "cooldown_minutes",
        "enabled",
    )
    return Rule(**{name: row[name] for name in names})


def save_rule(store: Store, rule: Rule) -> int:
    """Insert a rule (``rule.id`` None) or update it; returns its id. Raises ValueError on a duplicate name."""
    now = datetime.now(UTC)
    values = {k: v for k, v in asdict(rule).items() if k != "id"} | {"updated_at": now}
    try:
        with store.control.begin() as connection:
            if rule.id is None:
                result = connection.execute(alert_rules.insert().values(**values, created_at=now))
                return int(result.inserted_primary_key[0])  # type: ignore[index]
            updated = connection.execute(alert_rules.update().where(alert_rules.c.id == rule.id).values(**values))
            if not updated.rowcount:
                raise ValueError(f"no alert rule with id {rule.id}")
            return rule.id
    except sa.exc.IntegrityError as exc:
        raise ValueError(f"an alert rule named {rule.name!r} already exists") from exc


def set_enabled(store: Store, rule_id: int, enabled: bool) -> None:
    """Enable or disable a rule (a disabled rule's firing alerts resolve at the next check, quietly)."""
    rule = next((r for r in load_rules(store) if r.id == rule_id), None)
    if rule is None:
        raise ValueError(f"no alert rule with id {rule_id}")
    save_rule(store, replace(rule, enabled=enabled))


def delete_rule(store: Store, rule_id: int) -> None:
    """Delete a rule with its events and their queued notifications."""
    with store.control.begin() as connection:
        events = sa.select(alert_events.c.id).where(alert_events.c.rule_id == rule_id)
        connection.execute(alert_notifications.delete().where(alert_notifications.c.event_id.in_(events)))
        connection.execute(alert_events.delete().where(alert_events.c.rule_id == rule_id))
        connection.execute(alert_rules.delete().where(alert_rules.c.id == rule_id))


# --- one check ----------------------------------------------------------------------------------------


def check(
    store: Store,
    at: datetime | None = None,
    webhooks: Sequence[notify.Webhook] | None = None,
    *,
    attempts: int = config.ALERT_DELIVERY_ATTEMPTS,
    backoff_s: float = config.ALERT_DELIVERY_BACKOFF_S,
) -> CheckReport:
    """Evaluate all enabled rules at ``at`` (now), record the events, deliver queued notifications."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    hooks = list(notify.configured() if webhooks is None else webhooks)
    rules = load_rules(store)
    findings = find(store, rules, at)
    report = CheckReport(at=at, rules=sum(r.enabled for r in rules))
    with _locked(store) as connection:
        for rule in rules:
            _sync(connection, rule, findings.get(rule.id, []) if rule.enabled else [], at, hooks, report)
        connection.commit()
    delivered, undelivered = deliver_pending(store, hooks, attempts=attempts, backoff_s=backoff_s)
    return replace(report, delivered=delivered, undelivered=undelivered)


def find(store: Store, rules: Sequence[Rule], at: datetime) -> dict[int | None, list[Finding]]:
    """What each enabled rule finds at ``at`` (no state is read or written)."""
    cache: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    out: dict[int | None, list[Finding]] = {}
    with store.engine.connect() as connection:

        def rows(name: str, span: tuple[datetime, datetime], **params: Any) -> list[Mapping[str, Any]]:
            key = (name, span, tuple(sorted(params.items())))
            if key not in cache:
                result = sql.execute(connection, name, start=span[0], end=span[1], **params)
                cache[key] = [dict(r) for r in result.mappings()]
            return cache[key]

        for rule in rules:
            if not rule.enabled:
                continue
            now, before = windows(rule, at)
            if rule.kind == "latency_p95":
                by_model = int(rule.scope == "feature_model")
                found = evaluate(
                    rule,
                    rows("alert_latency", now, by_model=by_model),
                    rows("alert_latency", before, by_model=by_model),
                )
            elif rule.kind in ("refusal_jump", "error_rate", "unpriced_model"):
                found = evaluate(rule, rows("alert_call_stats", now), rows("alert_call_stats", before))
            elif rule.kind == "cost_budget":
                found = evaluate(rule, rows("alert_spend", now))
            else:
                found = evaluate(rule, rows("alert_feedback", now))
            out[rule.id] = [replace(f, rule_id=rule.id or -1) for f in found]
    return out


@contextlib.contextmanager
def _locked(store: Store) -> Iterator[sa.Connection]:
    """One check at a time (two cron jobs must not both open the same alert)."""
    with store.control.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(727173)"))
        yield connection


def _sync(
    connection: sa.Connection,
    rule: Rule,
    findings: list[Finding],
    at: datetime,
    hooks: Sequence[notify.Webhook],
    report: CheckReport,
) -> None:
    e = alert_events.c
    found = {f.key: f for f in findings}
    firing = connection.execute(sa.select(alert_events).where(e.rule_id == rule.id, e.status == "firing")).mappings()
    for event in list(firing):
        finding = found.pop(event["subject_key"], None)
        if finding is not None:
            connection.execute(
                alert_events.update()
                .where(e.id == event["id"])
                .values(last_seen_at=at, checks=e.checks + 1, **_measures(finding))
            )
            report.still_firing.append(finding.message)
            continue
        connection.execute(alert_events.update().where(e.id == event["id"]).values(status="resolved", resolved_at=at))
        report.resolved.append(f"{rule.name}: {event['message']}")
        if rule.enabled:  # a rule switched off resolves quietly
            _queue(connection, event["id"], "resolved", hooks, at)
    for key, finding in found.items():
        last = connection.execute(
            sa.select(alert_events.c.id, alert_events.c.resolved_at)
            .where(e.rule_id == rule.id, e.subject_key == key)
            .order_by(e.id.desc())
            .limit(1)
        ).first()
        cooled = (
            last is None
            or last.resolved_at is None
            or last.resolved_at <= at - timedelta(minutes=rule.cooldown_minutes)
        )
        if last is not None and not cooled:  # fired again within the cooldown: the same alert, not a new one
            connection.execute(
                alert_events.update()
                .where(e.id == last.id)
                .values(status="firing", resolved_at=None, last_seen_at=at, checks=e.checks + 1, **_measures(finding))
            )
            report.reopened.append(finding.message)
            continue
        start, end = windows(rule, at)[0]
        result = connection.execute(
            alert_events.insert().values(
                rule_id=rule.id,
                subject_key=key,
                subject=dict(finding.subject),
                status="firing",
                opened_at=at,
                last_seen_at=at,
                checks=1,
                link=calls_link(finding, start, end),
                **_measures(finding),
            )
        )
        report.opened.append(finding.message)
        _queue(connection, int(result.inserted_primary_key[0]), "opened", hooks, at)  # type: ignore[index]


def _measures(finding: Finding) -> dict[str, Any]:
    return {"value": finding.value, "baseline": finding.baseline, "volume": finding.volume, "message": finding.message}


def _queue(
    connection: sa.Connection, event_id: int, change: str, hooks: Sequence[notify.Webhook], at: datetime
) -> None:
    for hook in hooks:
        connection.execute(
            alert_notifications.insert().values(
                event_id=event_id, change=change, target=hook.target, status="pending", attempts=0, created_at=at
            )
        )


def calls_link(finding: Finding, start: datetime, end: datetime) -> dict[str, str]:
    """The calls page's URL parameters that list the calls behind a finding."""
    params = {
        "window": "custom",
        "start": start.isoformat(timespec="seconds"),
        "end": end.isoformat(timespec="seconds"),
    }
    for column, value in finding.subject.items():
        if value is not None:
            params[column] = str(value)
    return params | dict(finding.conditions)


def calls_url(link: Mapping[str, str]) -> str:
    """An absolute dashboard URL for a stored link (for notifications)."""
    return f"{config.dashboard_url()}/{CALLS_PAGE_PATH}?{urlencode(dict(link))}"


# --- delivery -----------------------------------------------------------------------------------------


def deliver_pending(
    store: Store,
    hooks: Sequence[notify.Webhook],
    *,
    attempts: int = config.ALERT_DELIVERY_ATTEMPTS,
    backoff_s: float = config.ALERT_DELIVERY_BACKOFF_S,
) -> tuple[int, list[str]]:
    """Send every queued notification; returns (delivered, errors). Failures stay queued for the next check."""
    by_target = {hook.target: hook for hook in hooks}
    n, e, r = alert_notifications.c, alert_events.c, alert_rules.c
    query = (
        sa.select(
            n.id,
            n.change,
            n.target,
            n.attempts,
            r.name.label("rule"),
            r.kind,
            e.subject,
            e.message,
            e.value,
            e.baseline,
            e.volume,
            e.opened_at,
            e.resolved_at,
            e.link,
        )
        .join(alert_events, e.id == n.event_id)
        .join(alert_rules, r.id == e.rule_id)
        .where(n.status == "pending")
        .order_by(n.id)
    )
    with store.control.connect() as connection:
        pending = [dict(row) for row in connection.execute(query).mappings()]
    delivered, errors = 0, []
    for item in pending:
        hook = by_target.get(item["target"])
        error: str | None = "this webhook is no longer in OBS_ALERT_WEBHOOKS"
        tries = 0
        if hook is not None:
            payload = notify.body(hook.format, item["change"], _jsonable(item), calls_url(item["link"] or {}))
            error, tries = notify.deliver(hook.url, payload, attempts=attempts, backoff_s=backoff_s)
        values: dict[str, Any] = {"attempts": n.attempts + tries, "last_error": error}
        if error is None:
            values |= {"status": "sent", "sent_at": datetime.now(UTC)}
            delivered += 1
        else:
            errors.append(f"{item['target']}: {error}")
        with store.control.begin() as connection:
            connection.execute(alert_notifications.update().where(n.id == item["id"]).values(**values))
    return delivered, errors


def _jsonable(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in item.items()}
