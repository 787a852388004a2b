"""Alerts in the dashboard: what fires now (with a link to the calls behind it), the rules, the history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
import streamlit as st

from obs.alerts import engine, notify
from obs.alerts.rules import KIND_HELP, SCOPES, Kind, Rule
from obs.ui.state import Filters, current_store, query, refresh

CALLS_PAGE = "pages/3_Calls.py"
ALERTS_PAGE = "pages/8_Alerts.py"
EDITABLE = ["name", "window_minutes", "threshold", "factor", "min_volume", "cooldown_minutes", "enabled"]


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


def rules_editor() -> None:
    """The rules as an editable table; changes are validated and saved with one button."""
    rules = query("alert_rules")
    edited = st.data_editor(
        rules,
        hide_index=True,
        key="rules_editor",
        disabled=[c for c in rules.columns if c not in EDITABLE],
        column_config={
            "window_minutes": st.column_config.NumberColumn("window (min)", min_value=1, step=1),
            "cooldown_minutes": st.column_config.NumberColumn("cooldown (min)", min_value=0, step=1),
            "min_volume": st.column_config.NumberColumn("min volume", min_value=0, step=1),
            "enabled": st.column_config.CheckboxColumn("on"),
            "firing": st.column_config.NumberColumn("firing now"),
        },
    )
    with st.expander("What each kind of rule checks"):
        st.markdown(
            "\n".join(f"- **{kind}** (by {' / '.join(SCOPES[kind])}): {text}" for kind, text in KIND_HELP.items())
        )
    left, right = st.columns([1, 3])
    if left.button("Save rule changes"):
        saved = 0
        for before, after in zip(rules.to_dict("records"), edited.to_dict("records"), strict=True):
            if any(_differs(before[c], after[c]) for c in EDITABLE):
                try:
                    engine.save_rule(current_store(), _rule(after))
                    saved += 1
                except (ValueError, TypeError) as exc:
                    st.error(f"{after['name']}: {exc}")
        refresh()
        st.toast(f"{saved} rule(s) saved")
    names = dict(zip(rules["name"], rules["id"], strict=True))
    doomed = right.selectbox("Delete a rule", ["—", *names], key="delete_rule")
    if doomed != "—" and right.button(f"Delete “{doomed}” and its history"):
        engine.delete_rule(current_store(), int(names[doomed]))
        refresh()
        st.rerun()


def rule_form() -> None:
    """A form to add a rule."""
    kind = st.selectbox("Kind", list(SCOPES), format_func=lambda k: f"{k}: {KIND_HELP[k]}", key="new_kind")
    with st.form("new_rule", clear_on_submit=False):
        name = st.text_input("Name", placeholder="e.g. Checkout p95 doubled")
        cols = st.columns(3)
        scope = cols[0].selectbox("Group by", SCOPES[kind])
        window = cols[1].number_input("Window (minutes)", min_value=1, value=60, step=5)
        cooldown = cols[2].number_input("Cooldown (minutes)", min_value=0, value=360, step=30)
        cols = st.columns(3)
        threshold = cols[0].number_input("Threshold", value=None, placeholder="rate, $ or count", format="%g")
        factor = cols[1].number_input("Factor", value=None, placeholder="x baseline", format="%g")
        volume = cols[2].number_input("Minimum volume", min_value=0, value=20, step=1)
        if st.form_submit_button("Add rule"):
            try:
                rule = Rule(
                    name=name.strip() or "unnamed rule", kind=cast(Kind, kind), scope=scope, window_minutes=int(window),
                    threshold=threshold, factor=factor, min_volume=int(volume), cooldown_minutes=int(cooldown),
                )  # fmt: skip
                engine.save_rule(current_store(), rule)
            except ValueError as exc:
                st.error(str(exc))
            else:
                refresh()
                st.success(f"Rule “{rule.name}” added; it runs at the next check.")


def history(filters: Filters) -> None:
    """Alerts that opened, fired or resolved in the window."""
    events = query("alert_history", start=filters.start, end=filters.end)
    if events.empty:
        st.caption("No alert in this window.")
        return
    events["calls"] = [_url(link) for link in events["link"]]
    st.dataframe(
        events.drop(columns=["link", "id"]),
        hide_index=True,
        width="stretch",
        column_config={"calls": st.column_config.LinkColumn("calls", display_text="open →")},
    )


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


def _rule(row: Any) -> Rule:
    def number(value: Any) -> float | None:
        return None if value is None or pd.isna(value) else float(value)

    return Rule(
        name=str(row["name"]).strip(), kind=row["kind"], scope=row["scope"], window_minutes=int(row["window_minutes"]),
        threshold=number(row["threshold"]), factor=number(row["factor"]), min_volume=int(row["min_volume"]),
        cooldown_minutes=int(row["cooldown_minutes"]), enabled=bool(row["enabled"]), id=int(row["id"]),
    )  # fmt: skip
