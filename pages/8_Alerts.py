"""Alerts: what fires now and the calls behind it, the rules (edit, add, switch off), and the history."""

import streamlit as st

from obs import ui
from obs.ui import alerts

filters = ui.page("Alerts")
st.caption("Rules run with `obs alerts check` (cron it, e.g. every 5 minutes) or with the button below. New and "
           "resolved alerts go to the webhooks in `OBS_ALERT_WEBHOOKS`.")  # fmt: skip
alerts.check_button()
st.subheader("Firing now")
alerts.firing_alerts()
alerts.outbox()
st.subheader("Rules")
alerts.rules_editor()
with st.expander("Add a rule"):
    alerts.rule_form()
st.subheader("History")
alerts.history(filters)
