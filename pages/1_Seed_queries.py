"""The seed guide's questions: cost by feature, top users, cost per model, latency percentiles."""

import streamlit as st

from obs import ui

st.title("Cost and latency")
start, end = ui.time_window()
ui.query_table("Daily cost by feature", "daily_cost_by_feature", start=start, end=end)
ui.query_table("Top users by spend", "top_users_by_spend", start=start, end=end, limit=20)
ui.query_table("Cost per call by model", "cost_per_call_by_model", start=start, end=end)
ui.query_table("Latency percentiles (ms) by feature and model", "latency_percentiles", start=start, end=end)
