"""Calls: a filterable, paginated table; open one to read it exactly as the model saw it (?call=<id>)."""

import streamlit as st

from obs import ui

PAGE_SIZE = 50


def _index(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


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

url = st.query_params  # an alert's link opens this page with its conditions set
statuses, feedbacks = ["All", "ok", "error"], ["All", "thumbs_down", "thumbs_up"]
cols = st.columns([1, 1, 1, 1, 1, 1, 2])
status = cols[0].selectbox("Status", statuses, index=_index(statuses, url.get("status")))
feedback = cols[1].selectbox("Feedback", feedbacks, index=_index(feedbacks, url.get("feedback")))
prompt_version = cols[2].text_input("Prompt version", value=url.get("prompt_version", ""), placeholder="any")
refusals_only = cols[3].checkbox("Refusals only", value=url.get("refusals") == "1")
unpriced_only = cols[4].checkbox("Unpriced only", value=url.get("unpriced") == "1")
replays = cols[5].checkbox("Include replays", value=url.get("replays") == "1", help="Calls made by obs replay")
search = cols[6].text_input("Search in answers", placeholder="e.g. refund")
conditions = {
    "status": None if status == "All" else status,
    "feedback": None if feedback == "All" else feedback,
    "refusals_only": int(refusals_only),
    "unpriced_only": int(unpriced_only),
    "prompt_version": prompt_version.strip() or None,
    "search": f"%{search}%" if search else None,
    "include_replays": int(replays),
}
total = int(ui.query("calls_count", filters, **conditions).iloc[0]["calls"])  # counted up to COUNT_CAP + 1
pages = max(1, -(-min(total, ui.COUNT_CAP) // PAGE_SIZE))
shown = f"{ui.COUNT_CAP:,}+ calls; narrow the filters to see more" if total > ui.COUNT_CAP else f"{total:,} calls"
page_number = int(st.number_input(f"Page (of {pages:,}; {shown})", 1, pages, 1))
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
