"""Calls: a filterable, paged table (every filter in the URL); open one to read it exactly as the model saw it
(?call=<id>), and go back to the same filtered page."""

import streamlit as st

from obs import ui
from obs.ui import calls

filters = ui.page("Calls")
store = ui.current_store()

call_id = st.query_params.get("call")
if call_id:
    call = store.get_call(call_id)
    if call is None:
        st.error(f"No call with id {call_id!r} in this store.")
    else:
        ui.call_detail(call, filters)
    if st.button("← Back to the list"):  # the list's filters and page are still in the URL
        del st.query_params["call"]
        st.rerun()
    st.stop()

rows = calls.calls_list(filters)
if rows is None:
    st.info("No calls match.")
    st.stop()
ui.pickable_table(
    calls.readable(rows),
    rows,
    key="calls_table",
    columns=calls.COLUMNS,
    param="call",
    id_column="id",
    hint="Select a row to open the call.",
)
