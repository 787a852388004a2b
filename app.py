"""obs dashboard: the entry point. It names the pages (the home page is "Overview") and runs the one asked for."""

import streamlit as st

#: Every page in the navigation's order: its script, its name, and its URL path (the file name's, as before).
PAGES = [
    ("pages/0_Overview.py", "Overview"), ("pages/1_Costs.py", "Costs"), ("pages/2_Latency.py", "Latency"),
    ("pages/3_Calls.py", "Calls"), ("pages/3_Sessions.py", "Sessions"), ("pages/4_Trace.py", "Trace"),
    ("pages/5_Replay.py", "Replay"), ("pages/6_Triage.py", "Triage"), ("pages/7_Datasets.py", "Datasets"),
    ("pages/8_Alerts.py", "Alerts"), ("pages/9_Redaction.py", "Redaction"),
]  # fmt: skip

st.navigation([st.Page(path, title=title, default=i == 0) for i, (path, title) in enumerate(PAGES)]).run()
