"""obs dashboard home: what is in the store."""

import streamlit as st

from obs import db, ui

st.set_page_config(page_title="obs", page_icon="🔭", layout="wide")
st.title("obs — LLM observability")

store = ui.current_store()
st.caption(f"Store: `{db.display_url(store.engine.url)}`")
stats = store.stats()
ui.stats_tiles(stats)
if stats.calls == 0:
    st.info("No calls recorded yet. Wrap your OpenAI client with obs to start recording.")
