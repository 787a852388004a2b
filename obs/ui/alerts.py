"""Alerts in the dashboard: what fires now (with a link to the calls behind it), the rules, the history."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
import streamlit as st

from obs.alerts import engine, notify
from obs.alerts.rules import (
    KIND_HELP,
    SCOPES,
    THRESHOLD_UNITS,
    Kind,
    Rule,
    duration_text,
    factor_text,
    parse_duration,
    parse_factor,
    parse_threshold,
    threshold_text,
)
from obs.ui.state import Filters, current_store, query, refresh

CALLS_PAGE = "pages/3_Calls.py"
ALERTS_PAGE = "pages/8_Alerts.py"


def firing_alerts(*, compact: bool = False) -> int:
    """Every alert firing now, newest first, each with a link to its calls; returns how many fire."""
    firing = query("alerts_firing")
    if firing.empty:
        st.success("No alert is firing." if not compact else "No alert is firing. ✓")
        return 0
    box = st.container(border=True) if compact else st
    for alert in firing.itertuples(index=False):
        with box.container(border=not compact):
            left, right = st.columns([6, 1.2], vertical_alignment="center")
            left.markdown(f":red[:material/notifications_active:] **{alert.rule}** — {alert.message}")
            if not compact:
                left.caption(f"since {_ago(alert.opened_at)} · checked {alert.checks}× · "
                             f"last {_ago(alert.last_seen_at)}")  # fmt: skip
            right.page_link(CALLS_PAGE, label="Calls behind it →", query_params=_link(alert.link))
    if compact:
        box.page_link(ALERTS_PAGE, label=f"{len(firing)} alert(s) firing · rules and history →")
    return len(firing)


def check_button() -> None:
    """Run every rule now (as `obs alerts check` does) and show what changed."""
    if not st.button("Check now", type="primary", help="Evaluate every enabled rule, as `obs alerts check` does"):
        return
    try:
        report = engine.check(current_store(), webhooks=notify.configured())
    except ValueError as exc:
        st.error(str(exc))
        return
    refresh()
    st.toast(f"{len(report.opened)} opened, {len(report.still_firing) + len(report.reopened)} still firing, "
             f"{len(report.resolved)} resolved")  # fmt: skip
    for error in report.undelivered:
        st.warning(f"Notification not delivered (kept for the next check): {error}")


#: The rules table's columns (fitting 1440 px beside the sidebar); the editable ones are typed as people say them.
RULE_COLUMNS = {
    "name": st.column_config.TextColumn("Rule", width=214, required=True),
    "kind": st.column_config.TextColumn("Kind", width=104),
    "scope": st.column_config.TextColumn("Group by", width=130),
    "window": st.column_config.TextColumn("Window", help="e.g. 60 min, 24 hours, 7 days", width=80),
    "threshold": st.column_config.TextColumn("Threshold", help="A rate in %, dollars, or a count", width=92),
    "factor": st.column_config.TextColumn("Factor", help="x the baseline, e.g. 1.5", width=66),
    "min_volume": st.column_config.NumberColumn("Min calls", min_value=0, step=1, width=80,
                                                help="Calls (or feedbacks) needed before it may fire"),
    "cooldown": st.column_config.TextColumn("Cooldown", help="A resolved alert back within it is not sent again",
                                            width=92),
    "enabled": st.column_config.CheckboxColumn("On", width=48),
    "firing": st.column_config.NumberColumn("Firing", width=52),
}  # fmt: skip
EDITABLE = ["name", "window", "threshold", "factor", "min_volume", "cooldown", "enabled"]


def readable_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """The rules as the table shows them: windows in minutes, hours or days, thresholds in their unit."""
    out = rules[["id", "name", "kind", "min_volume", "enabled"]].copy()
    out["scope"] = rules["scope"].str.replace("_", " · ")
    out["window"] = rules["window_minutes"].map(lambda m: duration_text(int(m)))
    out["cooldown"] = rules["cooldown_minutes"].map(lambda m: duration_text(int(m)))
    out["threshold"] = [threshold_text(k, _number(v)) for k, v in zip(rules["kind"], rules["threshold"], strict=True)]
    out["factor"] = rules["factor"].map(lambda v: factor_text(_number(v)))
    out["enabled"] = rules["enabled"].astype(bool)
    out["firing"] = rules["firing"].fillna(0).astype(int)
    return out


def rule_from_row(row: Mapping[Any, Any], stored: Mapping[Any, Any]) -> Rule:
    """An edited row of the table as a rule (ValueError with what is wrong: a duration, a number)."""
    kind = stored["kind"]
    return Rule(
        name=str(row["name"] or "").strip() or str(stored["name"]), kind=kind, scope=stored["scope"],
        window_minutes=parse_duration(row["window"]), threshold=parse_threshold(kind, row["threshold"]),
        factor=parse_factor(row["factor"]), min_volume=int(row["min_volume"] or 0),
        cooldown_minutes=parse_duration(row["cooldown"] or "0", minimum=0),
        enabled=bool(row["enabled"]), id=int(stored["id"]),
    )  # fmt: skip


def rules_editor() -> None:
    """The rules as an editable table; changes are validated and saved with one button."""
    rules = query("alert_rules")
    shown = readable_rules(rules)
    # A form: cells are edited in the browser and sent together on save (no rerun per edited cell).
    with st.form("rules_form", border=False):
        edited = st.data_editor(
            shown, hide_index=True, key="rules_editor", column_order=list(RULE_COLUMNS), column_config=RULE_COLUMNS,
            disabled=[c for c in RULE_COLUMNS if c not in EDITABLE],
        )  # fmt: skip
        submitted = st.form_submit_button("Save rule changes")
    with st.expander("What each kind of rule checks"):
        st.markdown(
            "\n".join(f"- **{kind}** (by {' / '.join(SCOPES[kind])}): {text}" for kind, text in KIND_HELP.items())
        )
    if submitted:
        saved = 0
        stored_rows = rules.to_dict("records")
        for stored, before, after in zip(stored_rows, shown.to_dict("records"), edited.to_dict("records"), strict=True):
            if any(_differs(before[c], after[c]) for c in EDITABLE):
                try:
                    engine.save_rule(current_store(), rule_from_row(after, stored))
                    saved += 1
                except (ValueError, TypeError) as exc:
                    st.error(f"{stored['name']}: {exc}")
        refresh()
        st.toast(f"{saved} rule(s) saved")
    names = dict(zip(rules["name"], rules["id"], strict=True))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    doomed = left.selectbox("Delete a rule", ["—", *names], key="delete_rule")
    if doomed != "—" and right.button(f"Delete “{doomed}” and its history"):
        engine.delete_rule(current_store(), int(names[doomed]))
        refresh()
        st.rerun()


def rule_form() -> None:
    """A form to add a rule."""
    kind = st.selectbox("Kind", list(SCOPES), format_func=lambda k: f"{k}: {KIND_HELP[k]}", key="new_kind")
    unit = THRESHOLD_UNITS.get(kind)
    with st.form("new_rule", clear_on_submit=False):
        name = st.text_input("Name", placeholder="e.g. Checkout p95 doubled")
        cols = st.columns(3)
        scope = cols[0].selectbox("Group by", SCOPES[kind])
        window = cols[1].text_input("Window", value="1 hour", help="e.g. 45 min, 6 hours, 7 days")
        cooldown = cols[2].text_input("Cooldown", value="6 hours", help="A resolved alert back within it is not "
                                      "notified again")  # fmt: skip
        cols = st.columns(3)
        threshold = cols[0].text_input(
            f"Threshold ({'%' if unit == '%' else 'dollars' if unit == '$' else 'count'})",
            placeholder={"%": "e.g. 20%", "$": "e.g. $100"}.get(unit or "", "e.g. 5"), disabled=unit is None,
        )  # fmt: skip
        factor = cols[1].text_input("Factor", placeholder="x the baseline, e.g. 1.5")
        volume = cols[2].number_input("Minimum calls", min_value=0, value=20, step=1)
        if st.form_submit_button("Add rule"):
            try:
                rule = Rule(
                    name=name.strip() or "unnamed rule", kind=cast(Kind, kind), scope=scope,
                    window_minutes=parse_duration(window), threshold=parse_threshold(kind, threshold),
                    factor=parse_factor(factor), min_volume=int(volume),
                    cooldown_minutes=parse_duration(cooldown or "0", minimum=0),
                )  # fmt: skip
                engine.save_rule(current_store(), rule)
            except ValueError as exc:
                st.error(str(exc))
            else:
                refresh()
                st.success(f"Rule “{rule.name}” added; it runs at the next check.")


#: The history's columns (fitting 1440 px beside the sidebar).
HISTORY_COLUMNS = {
    "rule": st.column_config.TextColumn("Rule", width=210),
    "status": st.column_config.TextColumn("Status", width=62),
    "message": st.column_config.TextColumn("What happened", width=390),
    "opened_at": st.column_config.DatetimeColumn("Opened", format="MMM D, HH:mm", width=92),
    "resolved_at": st.column_config.DatetimeColumn("Resolved", format="MMM D, HH:mm", width=92),
    "checks": st.column_config.NumberColumn("Checks", width=54),
    "calls": st.column_config.LinkColumn("Calls", display_text="open →", width=56),
}


def history(filters: Filters) -> None:
    """Alerts that opened, fired or resolved in the window."""
    events = query("alert_history", start=filters.start, end=filters.end)
    if events.empty:
        st.caption("No alert in this window.")
        return
    events["calls"] = [_url(link) for link in events["link"]]
    st.dataframe(events, hide_index=True, width="stretch", column_order=list(HISTORY_COLUMNS),
                 column_config=HISTORY_COLUMNS)  # fmt: skip


def outbox() -> None:
    """Notifications that could not be delivered yet."""
    pending = query("alert_outbox")
    if not pending.empty:
        st.warning(f"{len(pending)} webhook notification(s) not delivered yet; the next check retries them.")
        st.dataframe(pending, hide_index=True, width="stretch")


# --- helpers ------------------------------------------------------------------------------------------


def _link(value: Any) -> dict[str, str]:
    link = json.loads(value) if isinstance(value, str) else (value or {})
    return {str(k): str(v) for k, v in link.items()}


def _url(value: Any) -> str:
    from urllib.parse import urlencode

    return f"/Calls?{urlencode(_link(value))}"


def _ago(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    seconds = (datetime.now(UTC) - pd.Timestamp(value).to_pydatetime()).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return "just now"


def _differs(a: Any, b: Any) -> bool:
    if (a is None or pd.isna(a)) and (b is None or pd.isna(b)):
        return False
    return bool(a != b)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
