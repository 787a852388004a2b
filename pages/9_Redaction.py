"""Redaction: the privacy policy per feature, and a preview of what redaction does before turning it on."""

import streamlit as st

from obs import ui
from obs.ui import redaction

filters = ui.page("Redaction")
policies, note = redaction.current_policies()
st.caption(f"{note} Analyzer: {redaction.analyzer().info.note}. Retention: `obs retention apply --dry-run`.")
st.subheader("Policies")
redaction.policies_editor(policies)
st.subheader("Preview")
redaction.preview_section(filters, policies)
