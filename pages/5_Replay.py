"""Replay: re-run a call as it was or with a new prompt, model or parameters, and see the diff (?call=<id>);
replay an eval dataset as a named run (?run=<name or id>)."""

import streamlit as st

from obs.ui import page
from obs.ui import replay as ui_replay
from obs.ui.state import current_store

filters = page("Replay")
store = current_store()

call_id = st.query_params.get("call")
run = st.query_params.get("run")
if call_id:
    call = store.get_call(call_id)
    if call is None:
        st.error(f"No call with id {call_id!r} in this store.")
    else:
        ui_replay.replay_call_view(store, call, filters)
elif run:
    ui_replay.run_view(store, run, filters)
else:
    ui_replay.replay_home(store, filters)
