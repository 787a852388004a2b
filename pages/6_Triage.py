"""Triage: sampled calls one at a time; accept each into a dataset, reject it with a reason, or skip it.

``?call=<id>`` opens one call (the call view's "Add to eval set" links here).
"""

from obs import ui

filters = ui.page("Triage")
ui.triage(filters)
