"""Calls: a filterable, paginated table; open one to read it exactly as the model saw it (?call=<id>)."""

import streamlit as st

from obs import ui

PAGE_SIZE = 50

filters = ui.page("Calls")
store = ui.current_store()

call_id = st.query_params.get("call")
if call_id:
    call = store.get_call(call_id)
    if call is None:
        st.error(f"No call with id {call_id!r} in this store.")
    else:
        ui.call_detail(call, filters)
    if st.button("← Back to the list"):
        del st.query_params["call"]
        st.rerun()
    st.stop()

cols = st.columns([1, 1, 1, 2])
status = cols[0].selectbox("Status", ["All", "ok", "error"])
feedback = cols[1].selectbox("Feedback", ["All", "thumbs_down", "thumbs_up"])
refusals_only = cols[2].checkbox("Refusals only")
search = cols[3].text_input("Search in answers", placeholder="e.g. refund")
conditions = {
    "status": None if status == "All" else status,
    "feedback": None if feedback == "All" else feedback,
    "refusals_only": int(refusals_only),
    "search": f"%{search}%" if search else None,
}
total = int(ui.query("calls_count", filters, **conditions).iloc[0]["calls"])
pages = max(1, -(-total // PAGE_SIZE))
page_number = int(st.number_input(f"Page (of {pages:,}; {total:,} calls)", 1, pages, 1))
rows = ui.query("calls_page", filters, **conditions, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
if rows.empty:
    st.info("No calls match.")
    st.stop()
event = st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="calls_table",
    column_order=[
        "ts", "feature", "model", "user_id", "tenant_id", "status", "is_refusal", "user_feedback", "cost_usd",
        "latency_ms", "output_preview",
    ],
    column_config={"cost_usd": st.column_config.NumberColumn("cost", format="$%.6f")},
)  # fmt: skip
picked = event.selection.rows
if picked:
    st.query_params["call"] = str(rows.iloc[picked[0]]["id"])
    st.rerun()
st.caption("Select a row to open the call.")
