"""Replay: re-run a call as it was or with a new prompt, model or parameters, and see the diff (?call=<id>);
replay an eval dataset or a feature's calls as a named run (?run=<name or id>)."""

import streamlit as st

from obs import ui
from obs.ui import replay as replay_ui

filters = ui.page("Replay")
store = ui.current_store()

call_id = st.query_params.get("call")
run = st.query_params.get("run")
if call_id:
    call = store.get_call(call_id)
    if call is None:
        st.error(f"No call with id {call_id!r} in this store.")
    else:
        replay_ui.replay_call_view(store, call, filters)
elif run:
    replay_ui.run_view(store, run, filters)
else:
    replay_ui.replay_home(store, filters)
