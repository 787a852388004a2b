"""Latency: percentiles by feature and model, time to first token of streams, and the slowest calls."""

import streamlit as st

from obs import ui
from obs.ui import charts, tables

filters = ui.page("Latency")

trends = ui.query("trends", filters, bucket=filters.bucket)
st.subheader("Latency over time")
st.altair_chart(charts.latency_percentiles(trends, filters.bucket, (filters.start, filters.end)), width="stretch")

st.subheader("Percentiles by feature and model")
tables.show(ui.query("latency_percentiles", filters), csv="latency_percentiles.csv")

st.subheader("Time to first token (streamed calls)")
ttft = ui.query("ttft_by_model", filters)
if ttft.empty:
    st.info("No streamed calls in this window.")
else:
    tables.show(ttft, csv="ttft_by_model.csv")

st.subheader("Slowest calls")
slow = ui.query("slowest_calls", filters, limit=25)
slow = slow.assign(open="./Calls?call=" + slow["id"])
tables.show(
    slow,
    order=["open", "ts", "feature", "model", "user_id", "latency_ms", "latency_ms_first_token", "status"],
    open=st.column_config.LinkColumn("Call", display_text="open"),
)
