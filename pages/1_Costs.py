"""Costs: where the money goes, by feature, user, model and tenant. Unpriced calls are never counted as $0."""

import streamlit as st

from obs import ui
from obs.ui import charts, tables

filters = ui.page("Costs")

daily = ui.query("daily_cost_by_feature", filters)
st.subheader("Daily cost by feature")
st.altair_chart(charts.cost_by_feature(daily, (filters.start, filters.end)), width="stretch")
st.download_button("Download CSV", tables.csv_text(daily), "daily_cost_by_feature.csv", "text/csv", key="d1")

left, right = st.columns(2)
with left:
    st.subheader("Top users by spend")
    users = ui.query("top_users_by_spend", filters, limit=20)
    tables.show(users, csv="top_users_by_spend.csv", key="d2")
with right:
    st.subheader("Spend by tenant")
    tenants = ui.query("spend_by_tenant", filters)
    st.altair_chart(charts.bars(tenants, "tenant_id", "spend", "Spend ($)", "$.4f"), width="stretch")
    tables.show(tenants, csv="spend_by_tenant.csv", key="d3")

st.subheader("Cost per call by model")
models = ui.query("cost_per_call_by_model", filters)
tables.show(models, csv="cost_per_call_by_model.csv", key="d4")
st.caption(
    "Unpriced calls (the model was used, but it has no known price) are counted apart, never as $0. "
    "A call that failed before any usage has no cost and is not unpriced."
)
