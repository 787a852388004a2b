"""Latency: percentiles by feature and model, time to first token of streams, and the slowest calls."""

import streamlit as st

from obs import ui
from obs.ui import charts

filters = ui.page("Latency")

trends = ui.query("trends", filters, bucket=filters.bucket)
st.subheader("Latency over time")
st.altair_chart(charts.latency_percentiles(trends, filters.bucket), width="stretch")

st.subheader("Percentiles by feature and model")
percentiles = ui.query("latency_percentiles", filters)
ms = {k: st.column_config.NumberColumn(f"{k} (ms)", format="%.0f") for k in ("p50", "p95", "p99")}
st.dataframe(percentiles, hide_index=True, width="stretch", column_config=ms)

st.subheader("Time to first token (streamed calls)")
ttft = ui.query("ttft_by_model", filters)
if ttft.empty:
    st.info("No streamed calls in this window.")
else:
    st.dataframe(ttft, hide_index=True, width="stretch")

st.subheader("Slowest calls")
slow = ui.query("slowest_calls", filters, limit=25)
slow = slow.assign(open="./Calls?call=" + slow["id"])
st.dataframe(
    slow,
    hide_index=True,
    width="stretch",
    column_order=["open", "ts", "feature", "model", "user_id", "latency_ms", "latency_ms_first_token", "status"],
    column_config={"open": st.column_config.LinkColumn("call", display_text="open")},
)
