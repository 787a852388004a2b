"""The dashboard's building blocks: the only part of obs that imports streamlit.

Pages call these and hold no SQL and no business logic: ``page()`` sets up access and filters, ``query()``
runs a file of sql/ with the current filters (cached briefly), and the view functions render records.
"""

from obs.config import CALLS_COUNT_CAP as COUNT_CAP
from obs.ui.datasets import datasets
from obs.ui.sessions import session_chat, sessions_table
from obs.ui.state import Filters, current_store, page, pickable_table, query
from obs.ui.triage import triage
from obs.ui.views import call_detail, kpi_tiles, trace_view

__all__ = [
    "COUNT_CAP",
    "Filters",
    "call_detail",
    "current_store",
    "datasets",
    "kpi_tiles",
    "page",
    "pickable_table",
    "query",
    "session_chat",
    "sessions_table",
    "trace_view",
    "triage",
]
