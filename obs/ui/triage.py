"""The triage page: one sampled call at a time, accepted into a dataset, rejected with a reason, or skipped."""

from __future__ import annotations

from typing import Any

import streamlit as st

from obs import config
from obs.evals import EvalCase, EvalError, Evals, Settings, Undo
from obs.evals.cases import Verdict, prefill
from obs.evals.rules import RULE_LABELS, RULES, Reason
from obs.records import LLMCall
from obs.ui.state import Filters, current_store
from obs.ui.views import call_detail

NEW_DATASET = "New dataset…"
VERDICTS: dict[str, Verdict | None] = {
    "no verdict": None,
    "good (thumbs-up)": "thumbs_up",
    "bad (thumbs-down)": "thumbs_down",
}
UNDO_KEY, SKIPPED_KEY, FLASH_KEY, LAST_DATASET_KEY = "obs_undo", "obs_skipped", "obs_flash", "obs_last_dataset"
#: Undo reaches back this many actions.
UNDO_DEPTH = 20


def triage(filters: Filters) -> None:
    """The whole page below the title: reviewer, sampling, progress, undo, the current candidate and its actions."""
    evals = Evals(current_store())
    reviewer = _reviewer()
    progress = evals.progress()
    _sample_form(evals, filters, expanded=not progress.waiting)  # open when there is nothing to review
    _flash()
    if progress.sampled:
        done = progress.reviewed / progress.sampled
        st.progress(done, text=f"{progress.reviewed:,} of {progress.sampled:,} reviewed · {progress.waiting:,} waiting")
    _undo_button(evals)
    case = _current_case(evals)
    if case is None:
        return
    call = current_store().get_call(case.call_id)
    if call is None:
        st.error(f"The call {case.call_id!r} of case {case.id} is no longer in the store.")
        return
    st.markdown("**Why it surfaced:** " + " · ".join(_reason(r) for r in case.reasons))
    others = [c for c in evals.cases_of_call(call.id) if c.id != case.id and c.status == "accepted"]
    if others:
        st.info("Already in " + ", ".join(f"**{c.dataset}** (by {c.reviewer or '—'})" for c in others))
    left, right = st.columns([3, 2], gap="large")
    with left:
        call_detail(call, filters, narrow=True)
    with right:
        _actions(evals, case, call, reviewer)


def _reason(reason: Reason) -> str:
    label = RULE_LABELS.get(reason.rule, reason.rule)
    return f"**{label}** ({reason.detail})" if reason.detail else f"**{label}**"


def _reviewer() -> str:
    """The reviewer's name, remembered in the URL (``?reviewer=``): a reload or a bookmark keeps it; else
    $OBS_REVIEWER or the login name."""
    given = st.query_params.get("reviewer") or config.reviewer() or ""
    name = st.sidebar.text_input("Reviewer", value=given, key="obs_reviewer").strip()
    if name and st.query_params.get("reviewer") != name:
        st.query_params["reviewer"] = name
    return name


def _sample_form(evals: Evals, filters: Filters, *, expanded: bool) -> None:
    with st.expander("Sample candidates from the window and filters in the sidebar", expanded=expanded):
        cols = st.columns(3)
        per_rule = int(cols[0].number_input("Calls per rule", 1, 500, config.EVAL_SAMPLE_PER_RULE))
        rules = cols[1].multiselect("Rules", RULES, default=list(RULES))
        text = cols[2].text_input("Text in messages or answer", placeholder="e.g. refund")
        if st.button("Sample now", disabled=not rules):
            settings = Settings(
                start=filters.start, end=filters.end, per_rule=per_rule, rules=tuple(rules), feature=filters.feature,
                model=filters.model, tenant_id=filters.tenant_id, text=text or None,
            )  # fmt: skip
            result = evals.sample(settings)
            taken = ", ".join(f"{rule} {n}" for rule, n in result.taken.items() if n)
            st.session_state[FLASH_KEY] = ("success", f"Queued {len(result.picks)} calls ({taken or 'none matched'}).")
            st.rerun()


def _flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)


def _undo_button(evals: Evals) -> None:
    stack: list[Undo] = st.session_state.setdefault(UNDO_KEY, [])
    if not stack:
        return
    last = stack[-1]
    if st.button(f"Undo: {last.note}", key="undo"):
        stack.pop()
        if last.action == "skip":
            skipped: list[int] = st.session_state.setdefault(SKIPPED_KEY, [])
            if last.case_id in skipped:
                skipped.remove(last.case_id)
        else:
            evals.undo(last)
        st.session_state[FLASH_KEY] = ("success", f"Undone: {last.note}.")
        st.query_params["case"] = str(last.case_id)
        st.rerun()


def _current_case(evals: Evals) -> EvalCase | None:
    """The case asked for in the URL (?call= from the call view, ?case= after an undo), else the next one."""
    wanted_call, wanted_case = st.query_params.get("call"), st.query_params.get("case")
    try:
        if wanted_call:
            return evals.open_call(wanted_call)
        if wanted_case and wanted_case.isdigit():
            case = evals.get(int(wanted_case))
            if case is not None and case.status == "candidate":
                return case
    except EvalError as exc:
        st.error(str(exc))
        return None
    queue = evals.queue()
    skipped: list[int] = st.session_state.setdefault(SKIPPED_KEY, [])
    waiting = [int(i) for i in queue["id"] if int(i) not in skipped]
    if waiting:
        return evals.get(waiting[0])
    if not queue.empty:
        st.info(f"You skipped all {len(queue):,} waiting candidates.")
        if st.button("Start over with the skipped ones"):
            skipped.clear()
            st.rerun()
        return None
    st.success("The queue is empty. Sample more calls above, or with `obs evals sample`.")
    return None


def _actions(evals: Evals, case: EvalCase, call: LLMCall, reviewer: str) -> None:
    key = f"case{case.id}"
    st.markdown("#### Accept into a dataset")
    names = evals.datasets()["dataset"].tolist()
    options = [*names, NEW_DATASET]
    last = st.session_state.get(LAST_DATASET_KEY)
    dataset = st.selectbox("Dataset", options, index=options.index(last) if last in options else 0, key=f"{key}_ds")
    if dataset == NEW_DATASET:
        dataset = st.text_input("New dataset name", key=f"{key}_new", placeholder="e.g. refund-questions")
    expected = st.text_area("Expected output", value=prefill(call), height=220, key=f"{key}_expected")
    labels = st.text_input("Labels", key=f"{key}_labels", placeholder="comma-separated, e.g. billing, tone")
    notes = st.text_area("Notes", key=f"{key}_notes", height=80)
    verdict = VERDICTS[st.radio("The model's answer was", list(VERDICTS), horizontal=True, key=f"{key}_verdict")]
    missing = None if reviewer else "Enter your name as Reviewer in the sidebar first."
    if missing:
        st.warning(missing)
    if st.button("Accept", type="primary", disabled=bool(missing), key=f"{key}_accept"):
        _do(lambda: evals.accept(case.id, dataset=dataset, reviewer=reviewer, expected_output=expected,
                                 labels=labels, notes=notes, verdict=verdict),
            f"accepted call {call.id} into '{(dataset or '').strip()}'", dataset)  # fmt: skip
    st.markdown("#### Or")
    reason = st.selectbox("Reason to reject", config.EVAL_REJECT_REASONS, key=f"{key}_reason")
    cols = st.columns(2)
    if cols[0].button("Reject", disabled=bool(missing), key=f"{key}_reject"):
        _do(lambda: evals.reject(case.id, reviewer=reviewer, reason=reason, notes=notes, verdict=verdict),
            f"rejected call {call.id} ({reason})", None)  # fmt: skip
    if cols[1].button("Skip", key=f"{key}_skip"):
        st.session_state.setdefault(SKIPPED_KEY, []).append(case.id)
        _remember(Undo("skip", case.id, note=f"skipped call {call.id}"))
        _next()


def _do(action: Any, note: str, dataset: str | None) -> None:
    try:
        undo: Undo = action()
    except EvalError as exc:
        st.error(str(exc))
        return
    _remember(Undo(undo.action, undo.case_id, undo.before, undo.feedback_id, note=note))
    if dataset:
        st.session_state[LAST_DATASET_KEY] = dataset.strip()
    st.session_state[FLASH_KEY] = ("success", note[0].upper() + note[1:] + ".")
    _next()


def _remember(undo: Undo) -> None:
    stack: list[Undo] = st.session_state.setdefault(UNDO_KEY, [])
    stack.append(undo)
    del stack[:-UNDO_DEPTH]


def _next() -> None:
    for name in ("call", "case"):
        if name in st.query_params:
            del st.query_params[name]
    st.rerun()
