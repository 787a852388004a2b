"""Costs: where the money goes, by feature, user, model and tenant. Unpriced calls are never counted as $0."""

import streamlit as st

from obs import ui
from obs.ui import charts

filters = ui.page("Costs")

daily = ui.query("daily_cost_by_feature", filters)
st.subheader("Daily cost by feature")
st.altair_chart(charts.cost_by_feature(daily), width="stretch")
st.download_button("Download CSV", daily.to_csv(index=False), "daily_cost_by_feature.csv", "text/csv", key="d1")

left, right = st.columns(2)
with left:
    st.subheader("Top users by spend")
    users = ui.query("top_users_by_spend", filters, limit=20)
    money = st.column_config.NumberColumn(format="$%.4f")
    st.dataframe(users, hide_index=True, width="stretch", column_config={"spend": money})
    st.download_button("Download CSV", users.to_csv(index=False), "top_users_by_spend.csv", "text/csv", key="d2")
with right:
    st.subheader("Spend by tenant")
    tenants = ui.query("spend_by_tenant", filters)
    st.altair_chart(charts.bars(tenants, "tenant_id", "spend", "Spend ($)", "$.4f"), width="stretch")
    st.dataframe(tenants, hide_index=True, width="stretch", column_config={"spend": money})
    st.download_button("Download CSV", tenants.to_csv(index=False), "spend_by_tenant.csv", "text/csv", key="d3")

st.subheader("Cost per call by model")
models = ui.query("cost_per_call_by_model", filters)
st.dataframe(
    models,
    hide_index=True,
    width="stretch",
    column_config={
        "avg_cost": st.column_config.NumberColumn("avg cost", format="$%.6f"),
        "p95_cost": st.column_config.NumberColumn("p95 cost", format="$%.6f"),
    },
)
st.download_button("Download CSV", models.to_csv(index=False), "cost_per_call_by_model.csv", "text/csv", key="d4")
st.caption(
    "Unpriced calls (the model was used, but it has no known price) are counted in `unpriced_calls`, never as $0. "
    "A call that failed before any usage has no cost and is not unpriced."
)
