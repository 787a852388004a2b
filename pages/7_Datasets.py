"""Datasets: the cases reviewers accepted, edited in place, deduplicated, exported as JSONL or CSV (?dataset=)."""

from obs import ui

ui.page("Datasets")
ui.datasets()
