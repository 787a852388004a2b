"""The datasets page: the cases of a dataset, edited in place, deduplicated, exported as JSONL or CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from obs.evals import DatasetCase, Evals
from obs.evals.cases import duplicates, table_edits
from obs.evals.export import last_user_message, render
from obs.ui import tables
from obs.ui.state import current_store

CALLS_LINK = "./Calls?call="
FLASH_KEY = "obs_datasets_flash"
#: Bumped after each save or dedupe: the table's widget starts fresh, so edits made to the old rows (kept by
#: position) are never applied to the rows that took their place.
VERSION_KEY = "obs_datasets_version"


def datasets() -> None:
    """The whole page below the title."""
    evals = Evals(current_store())
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)
    sets = evals.datasets()
    if sets.empty:
        st.info("No datasets yet. Accept candidates on the Triage page (sample some with `obs evals sample`).")
        return
    names = sets["dataset"].tolist()
    wanted = st.query_params.get("dataset")
    name = st.selectbox("Dataset", names, index=names.index(wanted) if wanted in names else 0)
    if st.query_params.get("dataset") != name:
        st.query_params["dataset"] = name
    with st.expander(f"All datasets ({len(names)})"):
        tables.show(sets)
    cases = evals.dataset_cases(name)
    extra = duplicates(cases)
    cols = st.columns(4)
    cols[0].metric("Cases", f"{len(cases):,}")
    cols[1].metric("Duplicate inputs", f"{len(extra):,}")
    cols[2].metric("Labelled", f"{sum(1 for c in cases if c.case.labels):,}")
    cols[3].metric("Reviewers", f"{len({c.case.reviewer for c in cases if c.case.reviewer}):,}")
    _export(name, cases)
    if extra:
        st.warning(f"{len(extra)} cases repeat an input that is already in the dataset.")
        if st.button(f"Remove {len(extra)} duplicates (the first reviewed of each input stays)"):
            removed = evals.dedupe(name)
            _saved(f"Removed {len(removed)} duplicate cases from {name!r}.")
    _editor(evals, name, cases)


def _export(name: str, cases: list[DatasetCase]) -> None:
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("Export JSONL", render(cases, "jsonl"), f"{name}.jsonl", "application/jsonl", key="jsonl")
    right.download_button("Export CSV", render(cases, "csv"), f"{name}.csv", "text/csv", key="csv")
    st.caption("JSONL: one case a line, `input` (every message the model saw), `tools`, `ideal` (the expected "
               "output) and where it came from; OpenAI evals reads `input` / `ideal` as they are.")  # fmt: skip


#: The cases table's columns (fitting 1440 px beside the sidebar).
CASE_COLUMNS = {
    "id": st.column_config.NumberColumn("Case", width=48),
    "call": st.column_config.LinkColumn("Call", display_text="open", width=48),
    "question": st.column_config.TextColumn("Question", width=190),
    "expected_output": st.column_config.TextColumn("Expected output", width=268),
    "labels": st.column_config.TextColumn("Labels", width=90),
    "notes": st.column_config.TextColumn("Notes", width=90),
    "reasons": st.column_config.TextColumn("Why it surfaced", width=110),
    "reviewer": st.column_config.TextColumn("Reviewer", width=70),
    "remove": st.column_config.CheckboxColumn("Remove", width=66),
}


def _editor(evals: Evals, name: str, cases: list[DatasetCase]) -> None:
    table = pd.DataFrame(
        [
            {
                "id": c.case.id,
                "call": CALLS_LINK + c.case.call_id,
                "question": last_user_message(c.input),
                "expected_output": c.case.expected_output or "",
                "labels": ", ".join(c.case.labels),
                "notes": c.case.notes or "",
                "reasons": ", ".join(r.rule for r in c.case.reasons),
                "reviewer": c.case.reviewer,
                "remove": False,
            }
            for c in cases
        ]
    )
    st.markdown("#### Cases")
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key=f"editor_{name}_{st.session_state.get(VERSION_KEY, 0)}",
        disabled=["id", "call", "question", "reasons", "reviewer"],
        column_config=CASE_COLUMNS,
    )
    changed, removed = table_edits([c.case for c in cases], edited.to_dict("records"))
    label = f"Save changes ({len(changed)} edited, {len(removed)} to remove)"
    if st.button(label, type="primary", disabled=not (changed or removed)):
        for edit in changed:
            evals.update_case(edit.case_id, expected_output=edit.expected_output, labels=edit.labels, notes=edit.notes)
        evals.remove_cases(removed)
        _saved(f"Saved {len(changed)} edited cases, removed {len(removed)}.")


def _saved(message: str) -> None:
    st.session_state[FLASH_KEY] = message
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
    st.rerun()
