"""Sessions: conversations by session id; open one to read it as a chat, turn by turn (?session=<id>)."""

import streamlit as st

from obs import ui

filters = ui.page("Sessions")
session_id = st.query_params.get("session")
if session_id:
    ui.session_chat(session_id, filters)
    if st.button("← Back to the sessions"):
        del st.query_params["session"]
        st.rerun()
    st.stop()
ui.sessions_table(filters)
