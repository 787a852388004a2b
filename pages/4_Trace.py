"""Trace: every call and span of one request as a tree and a waterfall (?trace=<id>)."""

import streamlit as st

from obs import ui

filters = ui.page("Trace")
trace_id = st.query_params.get("trace") or st.text_input("Trace id")
if not trace_id:
    st.info("Open a trace from a call, or paste a trace id.")
    st.stop()
trace = ui.current_store().get_trace(trace_id)
if trace is None:
    st.error(f"No trace with id {trace_id!r} in this store.")
    st.stop()
ui.trace_view(trace, filters)
